//! A file sent from the page with its progress: an `XMLHttpRequest` whose
//! upload events say how much of the file the server has taken. The server
//! reads a deck as it imports it, so what it has taken is how far the import
//! has got.

use leptos::html::Input;
use leptos::prelude::*;

/// The server's answer to an upload: its status and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub body: String,
}

/// Posts the file chosen in `input` to `url` as the request's body (of type
/// `content_type`), with the page's cookies. `progress` hears the part sent
/// (0 to 1) as it goes, `done` the answer, or why there is none. `false`
/// when no file is chosen (nothing is sent).
///
/// They are plain closures, not `Callback`s: a callback belongs to the
/// reactive owner it was made under, and the view that starts an upload may
/// be gone (and its callbacks with it) before the answer comes.
///
/// Only in the browser; on the server (where no one clicks) it does nothing.
pub fn post_file(
    input: NodeRef<Input>,
    url: String,
    content_type: &'static str,
    progress: impl Fn(f64) + 'static,
    done: impl Fn(Result<Answer, String>) + 'static,
) -> bool {
    #[cfg(feature = "hydrate")]
    {
        browser::post_file(input, &url, content_type, progress, done)
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (input, url, content_type, progress, done);
        false
    }
}

/// Whether a file is chosen in `input`.
pub fn has_file(input: NodeRef<Input>) -> bool {
    #[cfg(feature = "hydrate")]
    {
        browser::chosen(input).is_some()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = input;
        false
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    use std::rc::Rc;

    use leptos::html::Input;
    use leptos::prelude::*;
    use leptos::wasm_bindgen::closure::Closure;
    use leptos::wasm_bindgen::JsCast;
    use web_sys::{File, ProgressEvent, XmlHttpRequest};

    use super::Answer;

    pub fn chosen(input: NodeRef<Input>) -> Option<File> {
        input.get_untracked()?.files()?.get(0)
    }

    pub fn post_file(
        input: NodeRef<Input>,
        url: &str,
        content_type: &str,
        progress: impl Fn(f64) + 'static,
        done: impl Fn(Result<Answer, String>) + 'static,
    ) -> bool {
        let Some(file) = chosen(input) else {
            return false;
        };
        let done: Rc<dyn Fn(Result<Answer, String>)> = Rc::new(done);
        if let Err(e) = send(&file, url, content_type, progress, Rc::clone(&done)) {
            done(Err(format!("the upload could not start: {e:?}")));
        }
        true
    }

    fn send(
        file: &File,
        url: &str,
        content_type: &str,
        progress: impl Fn(f64) + 'static,
        done: Rc<dyn Fn(Result<Answer, String>)>,
    ) -> Result<(), leptos::wasm_bindgen::JsValue> {
        let xhr = XmlHttpRequest::new()?;
        xhr.open("POST", url)?;
        xhr.set_request_header("Content-Type", content_type)?;
        xhr.set_request_header("Accept", "application/json")?;
        let upload = xhr.upload()?;
        let on_progress = Closure::<dyn FnMut(ProgressEvent)>::new(move |e: ProgressEvent| {
            if e.length_computable() && e.total() > 0.0 {
                progress(e.loaded() / e.total());
            }
        });
        upload.set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
        let answered = xhr.clone();
        // Called once, whatever the outcome; the progress handler goes with it.
        let on_end = Closure::once_into_js(move || {
            upload.set_onprogress(None);
            drop(on_progress);
            let status = answered.status().unwrap_or(0);
            let body = answered.response_text().ok().flatten().unwrap_or_default();
            done(if status == 0 {
                Err("the upload did not reach the server (the connection failed)".into())
            } else {
                Ok(Answer { status, body })
            });
        });
        xhr.set_onloadend(Some(on_end.unchecked_ref()));
        xhr.send_with_opt_blob(Some(file))?;
        Ok(())
    }
}
