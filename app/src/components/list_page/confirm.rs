//! A change asked about before it is made: the question and its two
//! answers, as a row's actions (Delete, Suspend) and a toolbar's (Re-rate)
//! show it.

use leptos::prelude::*;

/// The question, the button that makes the change (`verb`, its test id
/// `testid`, disabled while `pending`), and "Keep", which takes the question
/// back. Making the change takes it back too, once the change is sent.
#[component]
pub fn Confirm(
    /// What is asked ("Delete?").
    #[prop(into)]
    question: String,
    /// More about the question, shown when it is pointed at.
    #[prop(optional, into)]
    title: Option<String>,
    /// The change's button ("Delete").
    verb: &'static str,
    /// The change's button's `data-testid`.
    testid: &'static str,
    /// The change's button is shown as a dangerous one.
    #[prop(optional)]
    danger: bool,
    /// A change under way: its button waits.
    #[prop(into)]
    pending: Signal<bool>,
    /// Makes the change.
    on_confirm: Callback<()>,
    /// Takes the question back.
    on_keep: Callback<()>,
) -> impl IntoView {
    view! {
        <span class="confirm" title=title>{question}</span>
        <button
            type="button"
            class:danger=danger
            data-testid=testid
            disabled=move || pending.get()
            on:click=move |_| {
                on_confirm.run(());
                on_keep.run(());
            }
        >
            {verb}
        </button>
        <button type="button" class="secondary" on:click=move |_| on_keep.run(())>
            "Keep"
        </button>
    }
}
