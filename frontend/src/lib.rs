//! The browser side of the portal: hydrates the server-rendered pages.
//!
//! The pages are lazily loaded (`app::App`'s routes): hydration first waits
//! for the wasm modules of the page being shown (which the page's head asks
//! the browser to preload), then hydrates it.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    wasm_bindgen_futures::spawn_local(async {
        let body = leptos::prelude::document().body();
        let Some(body) = body else { return };
        leptos::mount::hydrate_from_async(body.clone(), app::App)
            .await
            .forget();
        // A mark that the wasm runs and the page is hydrated: the browser
        // tests wait for it, and fail without it, so a portal that only
        // renders on the server cannot pass.
        let _ = body.set_attribute("data-hydrated", "true");
    });
}
