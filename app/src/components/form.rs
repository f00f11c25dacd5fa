//! Inputs of the editing forms, each with its label and the messages about
//! it right below (the browser's own checks first, then the server's).

use leptos::prelude::*;
use model::FieldError;

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
    fields: &'static [&'static str],
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
) -> impl IntoView {
    let input_id = format!("{form}-{name}");
    let error_id = format!("{form}-{name}-error");
    let message = message(errors, name);
    let invalid = move || !message().is_empty();
    view! {
        <div class="field" class:wide=wide class:invalid=invalid>
            <label for=input_id.clone()>{label}</label>
            <input
                type="text"
                id=input_id
                name=name
                inputmode=mode
                autocomplete="off"
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
