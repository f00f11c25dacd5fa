//! `/tariffs`: the tenant's tariffs (named rate tables with their currency and
//! tariff-wide values), a page of the
//! [list-page skeleton](crate::components::list_page). The default tariff's
//! rates are the call rates; it can be changed but not deleted.

use std::future::Future;

use leptos::prelude::*;
use leptos_router::params::ParamsMap;
use model::tariff::{Tariff, TariffPatch};
use serde_json::{Map, Value};

use crate::components::form::{EditorForm, RowForm, TextField};
use crate::components::list_page::{
    Changes, Column, EditResource, ListPage, ListResource, Rows, Window,
};
use crate::functions::tariffs::{list_tariffs, DeleteTariff, SaveTariff, TariffList, TariffRow};

/// The fields of the form, in the order the server checks them.
const FIELDS: [&str; 6] = [
    "name",
    "currency",
    "free_seconds",
    "connect_fee",
    "post_call_surcharge",
    "grace_period",
];

/// A field's value in a tariff, as the form and the table show it.
fn value_of(t: &Tariff, field: &str) -> String {
    match field {
        "name" => t.name.clone(),
        "currency" => t.currency.clone(),
        "free_seconds" => t.free_seconds.to_string(),
        "connect_fee" => t.connect_fee.to_string(),
        "post_call_surcharge" => t.post_call_surcharge.to_string(),
        "grace_period" => t.grace_period.to_string(),
        _ => String::new(),
    }
}

/// The tariffs, as the list page lists them.
pub struct Tariffs;

impl ListResource for Tariffs {
    const PATH: &'static str = "/tariffs";
    const KEY: &'static str = "tariff";
    const NOUN: &'static str = "tariff";
    const NOUNS: &'static str = "tariffs";

    type Args = ();
    type List = TariffList;
    type Row = TariffRow;

    fn args(_query: &ParamsMap) {}

    fn list(
        tenant: Option<String>,
        (): (),
    ) -> impl Future<Output = Result<Option<TariffList>, ServerFnError>> + Send + 'static {
        list_tariffs(tenant)
    }

    fn rows(list: TariffList) -> Rows<TariffRow> {
        Rows {
            items: list.items,
            count: list.count,
            window: Window::First { order: "by name" },
        }
    }

    fn mark(row: &TariffRow) -> (&'static str, String) {
        ("data-name", row.tariff.name.clone())
    }
}

impl EditResource for Tariffs {
    type Save = SaveTariff;
    type Delete = DeleteTariff;

    fn id(row: &TariffRow) -> String {
        row.id.clone()
    }

    fn label(row: &TariffRow) -> String {
        row.tariff.name.clone()
    }

    /// The default tariff holds the call rates: it stays.
    fn deletable(row: &TariffRow) -> bool {
        !row.tariff.is_default
    }

    fn save(tenant: Option<String>, id: Option<String>, body: Map<String, Value>) -> SaveTariff {
        SaveTariff { tenant, id, body }
    }

    fn delete(tenant: Option<String>, id: String) -> DeleteTariff {
        DeleteTariff { tenant, id }
    }
}

/// The tariffs page.
#[component]
pub fn TariffsPage() -> impl IntoView {
    let field = |name: &'static str| move |row: &TariffRow| value_of(&row.tariff, name);
    let columns = vec![
        Column::new("name", "Name", |row: &TariffRow| {
            let is_default = row.tariff.is_default;
            view! {
                {row.tariff.name.clone()}
                {is_default.then(|| view! { " " <span class="badge" data-testid="default">"default"</span> })}
            }
        }),
        Column::new("currency", "Currency", field("currency")),
        Column::new("free_seconds", "Free s", field("free_seconds")).numeric(),
        Column::new("connect_fee", "Connect fee", field("connect_fee")).numeric(),
        Column::new(
            "post_call_surcharge",
            "Surcharge",
            field("post_call_surcharge"),
        )
        .numeric(),
        Column::new("grace_period", "Grace s", field("grace_period")).numeric(),
        Column::new("rates", "Rates", |row: &TariffRow| row.rates).numeric(),
    ];
    let changes = Changes::of::<Tariffs>(|(row, form)| {
        view! { <TariffEditor row=row form=form /> }.into_any()
    });
    view! {
        <ListPage
            resource=Tariffs
            title="Tariffs"
            columns=columns
            hint="Each tariff has its own rates and currency; billing plans choose the tariff by prefix."
            changes=changes
        />
    }
}

/// The form's values as the validator (and the server) read them: blank
/// inputs are left out (a new tariff then takes the default).
fn body_of(values: &[(&'static str, RwSignal<String>)]) -> Map<String, Value> {
    let mut body = Map::new();
    for (name, value) in values {
        let text = value.get_untracked().trim().to_string();
        if !text.is_empty() {
            body.insert(name.to_string(), Value::String(text));
        }
    }
    body
}

#[component]
fn TariffEditor(row: Option<TariffRow>, form: RowForm) -> impl IntoView {
    let value = |name: &'static str, default: &str| {
        RwSignal::new(match &row {
            Some(r) => value_of(&r.tariff, name),
            None => default.to_string(),
        })
    };
    let name = value("name", "");
    let currency = value("currency", "");
    let free_seconds = value("free_seconds", "0");
    let connect_fee = value("connect_fee", "0");
    let post_call_surcharge = value("post_call_surcharge", "0");
    let grace_period = value("grace_period", "0");
    let values: Vec<(&'static str, RwSignal<String>)> = vec![
        ("name", name),
        ("currency", currency),
        ("free_seconds", free_seconds),
        ("connect_fee", connect_fee),
        ("post_call_surcharge", post_call_surcharge),
        ("grace_period", grace_period),
    ];
    let errors = form.errors;
    let is_new = form.is_new;
    let check = move |()| {
        let body = body_of(&values);
        let checked = TariffPatch::from_json(&body).and_then(|p| {
            if is_new {
                p.into_new().map(|_| ())
            } else {
                Ok(())
            }
        });
        (body, checked.err().unwrap_or_default())
    };
    view! {
        <EditorForm
            form=form
            fields=FIELDS.to_vec()
            check=check
            note="Rates of this tariff that set no free seconds, grace period, connect fee or surcharge of their own take these."
        >
            <TextField form="tariff" name="name" label="Name" value=name errors=errors />
            <TextField
                form="tariff"
                name="currency"
                label="Currency (ISO 4217)"
                value=currency
                errors=errors
                placeholder="The tenant's"
            />
            <TextField form="tariff" name="free_seconds" label="Free seconds" value=free_seconds errors=errors mode="numeric" />
            <TextField form="tariff" name="connect_fee" label="Connect fee" value=connect_fee errors=errors mode="decimal" />
            <TextField
                form="tariff"
                name="post_call_surcharge"
                label="Post-call surcharge"
                value=post_call_surcharge
                errors=errors
                mode="decimal"
            />
            <TextField form="tariff" name="grace_period" label="Grace period (s)" value=grace_period errors=errors mode="numeric" />
        </EditorForm>
    }
}
