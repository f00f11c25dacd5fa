//! `/prices`: what a call costs. Type a number and a duration; the answer
//! is the amount and how it was reached, by the rates that apply to the
//! caller's calls (a standard user's own, an administrator's tenant's).

use std::sync::Arc;

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use model::FieldError;

use crate::components::form::{form_errors, general_error, TextField};
use crate::components::tenant::use_tenant;
use crate::functions::prices::{QuoteArgs, QuoteCall, QuoteView};

#[component]
pub fn PricesPage() -> impl IntoView {
    let tenant = use_tenant();
    let quote = ServerAction::<QuoteCall>::new();
    let callee = RwSignal::new(String::new());
    let duration = RwSignal::new("60".to_string());
    let checked = RwSignal::new(Vec::<FieldError>::new());
    let answer: Signal<Option<Result<QuoteView, ServerFnError>>> = quote.value().into();
    let errors = form_errors(checked, answer);
    let general = general_error(errors, answer, Arc::from(["callee", "duration"]));
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let args = QuoteArgs {
            callee: callee.get_untracked(),
            duration: duration.get_untracked(),
        };
        let problems = args.check();
        checked.set(problems.clone());
        if problems.is_empty() {
            quote.dispatch(QuoteCall {
                tenant: tenant.get_untracked(),
                args,
            });
        }
    };
    view! {
        <h1>"Call prices"</h1>
        <p class="lead">"What a call would cost now, by the rates that apply to your calls."</p>
        <form class="filters quote-form" novalidate on:submit=on_submit data-testid="quote-form">
            <TextField form="quote" name="callee" label="Number called" value=callee errors=errors placeholder="442071234567" />
            <TextField form="quote" name="duration" label="Duration (seconds)" value=duration errors=errors mode="numeric" />
            <div class="field">
                <span class="label-spacer" aria-hidden="true">"\u{a0}"</span>
                <button type="submit" data-testid="get-quote" disabled=move || quote.pending().get()>
                    {move || if quote.pending().get() { "Pricing…" } else { "Get the price" }}
                </button>
            </div>
        </form>
        {move || general.get().map(|text| view! { <p class="error" role="alert" data-testid="quote-error">{text}</p> })}
        {move || match answer.get() {
            Some(Ok(q)) => Some(view! { <QuoteCard quote=q /> }),
            _ => None,
        }}
    }
}

#[component]
fn QuoteCard(quote: QuoteView) -> impl IntoView {
    let lines = quote
        .lines
        .into_iter()
        .map(|(k, v)| view! { <div><dt>{k}</dt><dd>{v}</dd></div> })
        .collect_view();
    view! {
        <section class="card quote" data-testid="quote">
            <h2>
                {format!("{} s to {}: ", quote.duration, quote.callee)}
                <span data-testid="quote-amount">{format!("{} {}", quote.amount, quote.currency)}</span>
            </h2>
            <dl class="facts" data-testid="quote-breakdown">{lines}</dl>
        </section>
    }
}
