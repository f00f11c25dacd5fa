//! The deck upload of the rates page: a CSV file of rates and a mode (merge
//! or replace) are first sent as a dry run, whose preview says what the
//! import would do (new rates, changed ones with their old and new values,
//! unchanged ones, and in replace mode the rates it would remove); then the
//! same file is committed. Both go to the portal's import route, which runs
//! the REST API's import with the session's user; the progress bar follows
//! the upload, which the server reads as fast as it imports. A refused file
//! shows its bad lines (line, field, message) at the file input.
//!
//! The section is closed until its user opens it, and its form's code (the
//! upload, the preview, the refusals) is a module of its own that the browser
//! fetches then ([`deck_form`]), not with the rates page.

use leptos::html::Input;
use leptos::prelude::*;
use leptos_router::params::ParamsMap;
use model::deck::{DeckReport, ImportMode};
use model::user::Role;
use serde::Deserialize;

use crate::components::layout::use_current_user;
use crate::components::tenant::use_tenant;
use crate::components::upload::{has_file, post_file, Answer};

mod preview;

use preview::{committed, Preview};

/// Where the page sends a deck.
const IMPORT_URL: &str = "/portal/import/call_rates";

/// One bad line of a refused file.
#[derive(Debug, Clone, PartialEq, Eq)]
struct LineProblem {
    line: u64,
    field: String,
    message: String,
}

/// Where the upload is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    /// Nothing sent yet (or the last outcome set aside).
    Idle,
    /// A dry run (`commit: false`) or the import under way.
    Sending { commit: bool },
    /// The dry run's answer, waiting for the commit.
    Previewed(DeckReport),
    /// The import's answer.
    Committed(DeckReport),
    /// The file was refused: its bad lines, and what else the server said.
    Refused {
        lines: Vec<LineProblem>,
        other: Vec<String>,
    },
    /// No answer, or another refusal.
    Failed(String),
}

/// The REST error format, as far as the page reads it.
#[derive(Deserialize)]
struct ErrorBody {
    errors: Vec<ErrorEntry>,
}

#[derive(Deserialize)]
struct ErrorEntry {
    #[serde(default)]
    message: String,
    #[serde(default)]
    field: Option<String>,
    #[serde(default)]
    line: Option<u64>,
}

/// What an answer to a dry run (`commit: false`) or an import means.
fn outcome(commit: bool, answer: Result<Answer, String>) -> Step {
    let Answer { status, body } = match answer {
        Ok(answer) => answer,
        Err(text) => return Step::Failed(text),
    };
    if status == 200 {
        return match serde_json::from_str::<DeckReport>(&body) {
            Ok(report) if commit => Step::Committed(report),
            Ok(report) => Step::Previewed(report),
            Err(e) => Step::Failed(format!("the server's answer could not be read ({e})")),
        };
    }
    let errors = serde_json::from_str::<ErrorBody>(&body)
        .map(|b| b.errors)
        .unwrap_or_default();
    let mut lines = Vec::new();
    let mut other = Vec::new();
    for e in errors {
        match e.line {
            Some(line) => {
                let field = e.field.unwrap_or_default();
                // "line 3: interval_1 must be at least 1" → "must be at least 1".
                let lead = format!("line {line}: ");
                let text = e.message.strip_prefix(&lead).unwrap_or(&e.message);
                let text = text
                    .strip_prefix(&format!("{field} "))
                    .filter(|_| !field.is_empty())
                    .unwrap_or(text);
                lines.push(LineProblem {
                    line,
                    field,
                    message: text.to_string(),
                });
            }
            None => other.push(e.message),
        }
    }
    if !lines.is_empty() {
        Step::Refused { lines, other }
    } else if !other.is_empty() {
        Step::Failed(other.join("; "))
    } else {
        Step::Failed(format!("the server answered {status}"))
    }
}

/// The deck upload, for those who manage the tenant's rates (a system
/// administrator once a tenant is chosen). `imported` hears of each import.
#[component]
pub fn DeckUpload(#[prop(into)] imported: Callback<()>) -> impl IntoView {
    let user = use_current_user();
    let tenant = use_tenant();
    view! {
        <Suspense fallback=|| ()>
            {move || {
                let chosen = tenant.get().is_some();
                Suspend::new(async move {
                    let me = user.signed_in().await?;
                    let picks = me.role == Role::SystemAdmin;
                    (me.manages_tenant && (chosen || !picks))
                        .then(|| view! { <DeckSection imported=imported /> })
                })
            }}
        </Suspense>
    }
}

/// The section, closed: the form is drawn (its module fetched, the first
/// time) when it is first opened, and stays while the page does.
#[component]
fn DeckSection(imported: Callback<()>) -> impl IntoView {
    let opened = RwSignal::new(false);
    view! {
        <details class="card deck" data-testid="deck" on:toggle=move |_| opened.set(true)>
            <summary>"Upload a rate deck"</summary>
            {move || {
                opened
                    .get()
                    .then(|| {
                        view! {
                            <Suspense fallback=|| {
                                view! {
                                    <p class="hint" role="status" data-testid="deck-loading">
                                        "Loading the upload form…"
                                    </p>
                                }
                            }>{Suspend::new(async move { deck_form(imported).await })}</Suspense>
                        }
                    })
            }}
        </details>
    }
}

/// The form and what it answered, in a module of its own.
#[lazy]
fn deck_form(imported: Callback<()>) -> AnyView {
    view! { <DeckForm imported=imported /> }.into_any()
}

#[component]
fn DeckForm(imported: Callback<()>) -> impl IntoView {
    let tenant = use_tenant();
    let input = NodeRef::<Input>::new();
    let mode = RwSignal::new(ImportMode::Merge);
    let step = RwSignal::new(Step::Idle);
    let sent = RwSignal::new(0.0f64);
    let missing = RwSignal::new(false);
    let busy = move || matches!(step.get(), Step::Sending { .. });

    let send = move |commit: bool| {
        if busy() {
            return;
        }
        if !has_file(input) {
            missing.set(true);
            step.set(Step::Idle);
            return;
        }
        missing.set(false);
        let mut q = ParamsMap::new();
        if let Some(t) = tenant.get_untracked() {
            q.insert("tenant", t);
        }
        q.insert("mode", mode.get_untracked().to_string());
        q.insert("dry_run", (!commit).to_string());
        let url = format!("{IMPORT_URL}{}", q.to_query_string());
        sent.set(0.0);
        step.set(Step::Sending { commit });
        post_file(
            input,
            url,
            "text/csv",
            move |part| sent.set(part),
            move |answer| {
                let next = outcome(commit, answer);
                if matches!(next, Step::Committed(_)) {
                    imported.run(());
                }
                step.set(next);
            },
        );
    };
    // Another file or mode: the last preview no longer holds.
    let reset = move || {
        if !busy() {
            missing.set(false);
            step.set(Step::Idle);
        }
    };
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        send(false);
    };
    let invalid = move || missing.get() || matches!(step.get(), Step::Refused { .. });
    let mode_choice = move |value: ImportMode, title: &'static str, text: &'static str| {
        view! {
            <label class="choice">
                <input
                    type="radio"
                    name="mode"
                    value=value.to_string()
                    data-testid=format!("deck-mode-{value}")
                    prop:checked=move || mode.get() == value
                    on:change=move |_| {
                        mode.set(value);
                        reset();
                    }
                />
                <span>
                    <strong>{title}</strong>
                    {text}
                </span>
            </label>
        }
    };

    view! {
        <form class="deck-form" novalidate on:submit=on_submit data-testid="deck-form">
                <p class="hint">
                    "A CSV file in the export's columns (a header line, then one rate a line). "
                    "You see what it would change before anything is written."
                </p>
                <div class="field" class:invalid=invalid>
                    <label for="deck-file">"Deck (CSV file)"</label>
                    <input
                        type="file"
                        id="deck-file"
                        name="file"
                        accept=".csv,text/csv"
                        node_ref=input
                        data-testid="deck-file"
                        aria-invalid=move || if invalid() { "true" } else { "false" }
                        aria-describedby="deck-file-error"
                        on:change=move |_| reset()
                    />
                    <div class="field-error" id="deck-file-error" data-testid="deck-file-error">
                        {move || missing.get().then_some("Choose a CSV file first.")}
                        {move || match step.get() {
                            Step::Refused { lines, other } => Some(refused(lines, other).into_any()),
                            Step::Failed(text) => {
                                Some(view! { <span data-testid="deck-failed">{text}</span> }.into_any())
                            }
                            _ => None,
                        }}
                    </div>
                </div>
                <fieldset class="deck-mode">
                    <legend>"Mode"</legend>
                    {mode_choice(
                        ImportMode::Merge,
                        "Merge",
                        " — add the file's new rates and change the existing ones; keep the others.",
                    )}
                    {mode_choice(
                        ImportMode::Replace,
                        "Replace",
                        " — the same, and remove the rates whose prefix the file does not name.",
                    )}
                </fieldset>
                <div class="buttons">
                    <button type="submit" data-testid="deck-preview" disabled=busy>
                        "Preview"
                    </button>
                </div>
            </form>
            {move || match step.get() {
                Step::Sending { commit } => Some(progress(commit, sent).into_any()),
                Step::Previewed(report) => {
                    let commit = Callback::new(move |()| send(true));
                    let cancel = Callback::new(move |()| step.set(Step::Idle));
                    Some(view! { <Preview report=report commit=commit cancel=cancel /> }.into_any())
                }
            Step::Committed(report) => Some(committed(&report).into_any()),
            _ => None,
        }}
    }
}

/// The progress bar of a dry run or an import.
fn progress(commit: bool, sent: RwSignal<f64>) -> AnyView {
    // Whole percents: an integer is all the bar and its text show (and it
    // spares the browser's wasm the formatting of floating-point numbers).
    let percent = move || (sent.get() * 100.0).clamp(0.0, 100.0).round() as u8;
    let text = move || {
        let p = percent();
        match (commit, p >= 100) {
            (_, true) => "Finishing…".to_string(),
            (false, false) => format!("Checking the file… {p}%"),
            (true, false) => format!("Importing… {p}%"),
        }
    };
    view! {
        <div class="deck-progress" data-testid="deck-progress" role="status">
            <label for="deck-progress-bar">{text}</label>
            <progress id="deck-progress-bar" max="100" value=move || percent().to_string()>
                {move || format!("{}%", percent())}
            </progress>
        </div>
    }
    .into_any()
}

/// The bad lines of a refused file.
fn refused(lines: Vec<LineProblem>, other: Vec<String>) -> AnyView {
    view! {
        <p>"The file was refused; nothing was imported. Its bad lines:"</p>
        <div class="table-wrap">
            <table class="list deck-lines" data-testid="deck-line-errors">
                <thead>
                    <tr>
                        <th scope="col" class="num">"Line"</th>
                        <th scope="col">"Field"</th>
                        <th scope="col">"Problem"</th>
                    </tr>
                </thead>
                <tbody>
                    {lines
                        .into_iter()
                        .map(|l| {
                            view! {
                                <tr data-testid="deck-line-error" data-line=l.line>
                                    <td class="num">{l.line}</td>
                                    <td>{l.field}</td>
                                    <td>{l.message}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
        {other.into_iter().map(|text| view! { <p>{text}</p> }).collect_view()}
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_names_its_lines() {
        let body = r#"{"errors":[
            {"code":"VALIDATE_FAILED","message":"line 3: interval_1 must be at least 1","detail":"","field":"interval_1","line":3},
            {"code":"VALIDATE_FAILED","message":"line 4: has 2 fields where the header names 3","detail":"","line":4},
            {"code":"VALIDATE_FAILED","message":"5 more bad lines are not listed","detail":""}
        ]}"#;
        let step = outcome(
            false,
            Ok(Answer {
                status: 400,
                body: body.into(),
            }),
        );
        assert_eq!(
            step,
            Step::Refused {
                lines: vec![
                    LineProblem {
                        line: 3,
                        field: "interval_1".into(),
                        message: "must be at least 1".into()
                    },
                    LineProblem {
                        line: 4,
                        field: String::new(),
                        message: "has 2 fields where the header names 3".into()
                    },
                ],
                other: vec!["5 more bad lines are not listed".into()],
            }
        );
        let failed = outcome(
            true,
            Ok(Answer {
                status: 403,
                body: r#"{"errors":[{"code":"FORBIDDEN","message":"no","detail":""}]}"#.into(),
            }),
        );
        assert_eq!(failed, Step::Failed("no".into()));
    }
}
