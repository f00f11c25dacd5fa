//! The editing forms: their frame ([`EditorForm`], driven by a [`RowForm`])
//! and their inputs, each with its label and the messages about it right
//! below (the browser's own checks first, then the server's).

use std::sync::Arc;

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use model::FieldError;
use serde_json::{Map, Value};

use crate::components::error_text;
use crate::functions::{invalid_fields, refused_fields};

/// The problems a form shows: those the browser found, or when there are
/// none, those the server answered (`save` is the saving action's value).
pub fn form_errors<T: Send + Sync + 'static>(
    checked: RwSignal<Vec<FieldError>>,
    save: Signal<Option<Result<T, ServerFnError>>>,
) -> Signal<Vec<FieldError>> {
    Signal::derive(move || {
        let local = checked.get();
        if !local.is_empty() {
            return local;
        }
        save.with(refused_fields)
    })
}

/// What a form shows apart from its fields: a failure that is no field's, or
/// problems about fields the form does not have.
pub fn general_error<T: Send + Sync + 'static>(
    errors: Signal<Vec<FieldError>>,
    save: Signal<Option<Result<T, ServerFnError>>>,
    fields: Arc<[&'static str]>,
) -> Signal<Option<String>> {
    Signal::derive(move || {
        let failed = save.with(|v| match v {
            Some(Err(e)) if invalid_fields(e).is_none() => Some(error_text(e)),
            _ => None,
        });
        if failed.is_some() {
            return failed;
        }
        let other: Vec<String> = errors
            .get()
            .into_iter()
            .filter(|e| !fields.contains(&e.field.as_str()))
            .map(|e| e.to_string())
            .collect();
        (!other.is_empty()).then(|| other.join("; "))
    })
}

/// A row's editor as a list page opens it: what the form reads (the
/// problems to show, whether a save is under way) and what it does (send,
/// cancel). A new one comes with each opening, its problems cleared.
#[derive(Clone)]
pub struct RowForm {
    /// Names the form's elements: `{key}-form`, `save-{key}`, `{key}-{field}`.
    pub key: &'static str,
    /// The form's heading.
    pub title: String,
    /// Whether the form makes a new row (rather than changing one).
    pub is_new: bool,
    /// The problems to show next to the fields.
    pub errors: Signal<Vec<FieldError>>,
    checked: RwSignal<Vec<FieldError>>,
    answer: Signal<Option<Result<String, ServerFnError>>>,
    pending: Signal<bool>,
    dispatch: Callback<Map<String, Value>>,
    forget: Callback<()>,
    cancel: Callback<()>,
}

impl RowForm {
    /// A form whose saves go through `dispatch`; `answer` is the saving
    /// action's value, `forget` clears it, `cancel` closes the form.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        key: &'static str,
        title: String,
        is_new: bool,
        answer: Signal<Option<Result<String, ServerFnError>>>,
        pending: Signal<bool>,
        dispatch: Callback<Map<String, Value>>,
        forget: Callback<()>,
        cancel: Callback<()>,
    ) -> Self {
        let checked = RwSignal::new(Vec::<FieldError>::new());
        Self {
            key,
            title,
            is_new,
            errors: form_errors(checked, answer),
            checked,
            answer,
            pending,
            dispatch,
            forget,
            cancel,
        }
    }

    /// Sends `body` to the server, unless the browser found `problems` in
    /// it: those are shown instead, and the server's last answer forgotten.
    pub fn submit(&self, body: Map<String, Value>, problems: Vec<FieldError>) {
        if problems.is_empty() {
            self.checked.set(Vec::new());
            self.dispatch.run(body);
        } else {
            self.forget.run(());
            self.checked.set(problems);
        }
    }
}

/// The frame of a row's editor: heading, the fields (`children`), an
/// optional note, the problems that belong to no field, Save and Cancel.
#[component]
pub fn EditorForm(
    form: RowForm,
    /// The names of the form's fields; problems about other names are shown
    /// above the buttons.
    #[prop(into)]
    fields: Vec<&'static str>,
    /// Reads the inputs: the body to send, and what the browser's own check
    /// finds wrong with it.
    #[prop(into)]
    check: Callback<(), (Map<String, Value>, Vec<FieldError>)>,
    /// A hint below the fields.
    #[prop(optional)]
    note: Option<&'static str>,
    children: Children,
) -> impl IntoView {
    let general = general_error(form.errors, form.answer, fields.into());
    let pending = form.pending;
    let cancel = form.cancel;
    let key = form.key;
    let title = form.title.clone();
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let (body, problems) = check.run(());
        form.submit(body, problems);
    };
    view! {
        <form class="card editor" novalidate on:submit=on_submit data-testid=format!("{key}-form")>
            <h2>{title}</h2>
            <div class="grid">{children()}</div>
            {note.map(|text| view! { <p class="hint">{text}</p> })}
            {move || general.get().map(|text| view! { <p class="error" role="alert" data-testid="form-error">{text}</p> })}
            <div class="buttons">
                <button type="submit" data-testid=format!("save-{key}") disabled=move || pending.get()>
                    {move || if pending.get() { "Saving…" } else { "Save" }}
                </button>
                <button type="button" class="secondary" data-testid="cancel" on:click=move |_| cancel.run(())>
                    "Cancel"
                </button>
            </div>
        </form>
    }
}

fn message(errors: Signal<Vec<FieldError>>, name: &'static str) -> impl Fn() -> String + Copy {
    move || {
        errors
            .get()
            .into_iter()
            .filter(|e| e.field == name)
            .map(|e| e.message)
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// A text input. `form` names the form, to make the element ids unique.
#[component]
pub fn TextField(
    form: &'static str,
    name: &'static str,
    label: &'static str,
    value: RwSignal<String>,
    errors: Signal<Vec<FieldError>>,
    /// `text`, `numeric` or `decimal`.
    #[prop(default = "text")]
    mode: &'static str,
    #[prop(default = "")] placeholder: &'static str,
    #[prop(optional)] wide: bool,
    /// A password: typed unseen.
    #[prop(optional)]
    secret: bool,
) -> impl IntoView {
    let input_id = format!("{form}-{name}");
    let error_id = format!("{form}-{name}-error");
    let message = message(errors, name);
    let invalid = move || !message().is_empty();
    view! {
        <div class="field" class:wide=wide class:invalid=invalid>
            <label for=input_id.clone()>{label}</label>
            <input
                type=if secret { "password" } else { "text" }
                id=input_id
                name=name
                inputmode=mode
                autocomplete=if secret { "new-password" } else { "off" }
                placeholder=placeholder
                data-testid=format!("field-{name}")
                aria-invalid=move || if invalid() { "true" } else { "false" }
                aria-describedby=error_id.clone()
                bind:value=value
            />
            <p class="field-error" id=error_id data-testid=format!("error-{name}")>
                {message}
            </p>
        </div>
    }
}

/// A choice among `options` (value, label).
#[component]
pub fn SelectField(
    form: &'static str,
    name: &'static str,
    label: &'static str,
    value: RwSignal<String>,
    errors: Signal<Vec<FieldError>>,
    options: Vec<(String, String)>,
) -> impl IntoView {
    let input_id = format!("{form}-{name}");
    let error_id = format!("{form}-{name}-error");
    let message = message(errors, name);
    let invalid = move || !message().is_empty();
    let initial = value.get_untracked();
    view! {
        <div class="field" class:invalid=invalid>
            <label for=input_id.clone()>{label}</label>
            <select
                id=input_id
                name=name
                data-testid=format!("field-{name}")
                aria-invalid=move || if invalid() { "true" } else { "false" }
                aria-describedby=error_id.clone()
                bind:value=value
            >
                {options
                    .into_iter()
                    .map(|(v, text)| {
                        let selected = v == initial;
                        view! { <option value=v selected=selected>{text}</option> }
                    })
                    .collect_view()}
            </select>
            <p class="field-error" id=error_id data-testid=format!("error-{name}")>
                {message}
            </p>
        </div>
    }
}

/// A yes/no setting.
#[component]
pub fn CheckField(
    form: &'static str,
    name: &'static str,
    label: &'static str,
    value: RwSignal<bool>,
    errors: Signal<Vec<FieldError>>,
) -> impl IntoView {
    let input_id = format!("{form}-{name}");
    let label_for = input_id.clone();
    let message = message(errors, name);
    let invalid = move || !message().is_empty();
    view! {
        <div class="field check-field" class:invalid=invalid>
            <label class="check" for=label_for>
                <input type="checkbox" id=input_id name=name data-testid=format!("field-{name}") bind:checked=value />
                <span>{label}</span>
            </label>
            <p class="field-error" data-testid=format!("error-{name}")>
                {message}
            </p>
        </div>
    }
}
