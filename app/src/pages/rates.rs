//! `/rates`: the call rates of the tenant's default tariff, a page of the
//! [list-page skeleton](crate::components::list_page) that can be searched,
//! sorted, paged through and exported. Changes go through a form that runs
//! the shared validator in the browser first and shows the server's own
//! refusals (a duplicate prefix) next to their fields. A whole deck is
//! uploaded from the [deck section](crate::pages::deck) above the table.

use std::future::Future;

use leptos::prelude::*;
use leptos_router::params::ParamsMap;
use model::call_rate::{CallRate, CallRateFields};
use serde_json::{Map, Value};

use crate::components::form::{EditorForm, RowForm, SelectField, TextField};
use crate::components::list_page::{
    Changes, Column, EditResource, ListPage, ListResource, Rows, Search, Window,
};
use crate::components::tenant::use_tenant;
use crate::functions::rates::{
    list_rates, DeleteRate, RateListArgs, RatePage, SaveRate, PAGE_SIZE,
};
use crate::pages::deck::DeckUpload;

/// How a field is entered.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Whole,
    Money,
    RateType,
}

/// A field of a rate: its column in the table and its input in the form.
struct Field {
    name: &'static str,
    /// Column heading.
    short: &'static str,
    /// Form label.
    label: &'static str,
    kind: Kind,
    /// What a new rate starts with.
    default: &'static str,
}

const FIELDS: [Field; 11] = [
    Field {
        name: "prefix",
        short: "Prefix",
        label: "Prefix",
        kind: Kind::Text,
        default: "",
    },
    Field {
        name: "type",
        short: "Type",
        label: "Type",
        kind: Kind::RateType,
        default: "LOCAL",
    },
    Field {
        name: "free_seconds",
        short: "Free s",
        label: "Free seconds",
        kind: Kind::Whole,
        default: "0",
    },
    Field {
        name: "grace_period",
        short: "Grace s",
        label: "Grace period (s)",
        kind: Kind::Whole,
        default: "0",
    },
    Field {
        name: "interval_1",
        short: "Interval 1",
        label: "First interval (s)",
        kind: Kind::Whole,
        default: "60",
    },
    Field {
        name: "interval_n",
        short: "Interval n",
        label: "Next intervals (s)",
        kind: Kind::Whole,
        default: "60",
    },
    Field {
        name: "connect_fee",
        short: "Connect fee",
        label: "Connect fee",
        kind: Kind::Money,
        default: "0",
    },
    Field {
        name: "postcall_surcharge",
        short: "Surcharge",
        label: "Post-call surcharge",
        kind: Kind::Money,
        default: "0",
    },
    Field {
        name: "price_1",
        short: "Price 1",
        label: "Price/min, first interval",
        kind: Kind::Money,
        default: "",
    },
    Field {
        name: "price_n",
        short: "Price n",
        label: "Price/min, next intervals",
        kind: Kind::Money,
        default: "",
    },
    Field {
        name: "description",
        short: "Description",
        label: "Description",
        kind: Kind::Text,
        default: "",
    },
];

const RATE_TYPES: &[&str] = <model::call_rate::RateType as model::WireEnum>::ALL_WIRE;

/// A field's value in a rate, as the form and the table show it.
fn value_of(rate: &CallRate, field: &str) -> String {
    let r = &rate.fields;
    match field {
        "prefix" => r.prefix.clone(),
        "type" => r.rate_type.to_string(),
        "free_seconds" => r.free_seconds.to_string(),
        "grace_period" => r.grace_period.to_string(),
        "interval_1" => r.interval_1.to_string(),
        "interval_n" => r.interval_n.to_string(),
        "connect_fee" => r.connect_fee.to_string(),
        "postcall_surcharge" => r.postcall_surcharge.to_string(),
        "price_1" => r.price_1.to_string(),
        "price_n" => r.price_n.to_string(),
        "description" => r.description.clone(),
        _ => String::new(),
    }
}

/// The call rates, as the list page lists them.
pub struct Rates;

impl ListResource for Rates {
    const PATH: &'static str = "/rates";
    const KEY: &'static str = "rate";
    const NOUN: &'static str = "rate";
    const NOUNS: &'static str = "rates";

    type Args = RateListArgs;
    type List = RatePage;
    type Row = CallRate;

    fn args(query: &ParamsMap) -> RateListArgs {
        RateListArgs {
            search: query.get("search"),
            orderby: query.get("orderby"),
            skip: query.get("skip").filter(|s| !s.trim().is_empty()),
            top: query.get("top").filter(|s| !s.trim().is_empty()),
            cursor: query.get("cursor").filter(|s| !s.trim().is_empty()),
            at: query.get("at").filter(|s| !s.trim().is_empty()),
        }
    }

    fn list(
        tenant: Option<String>,
        args: RateListArgs,
    ) -> impl Future<Output = Result<Option<RatePage>, ServerFnError>> + Send + 'static {
        list_rates(tenant, args)
    }

    fn rows(page: RatePage) -> Rows<CallRate> {
        Rows {
            items: page.items,
            count: page.count,
            window: Window::Cursor {
                at: page.skip,
                top: page.top,
                next: page.cursor,
                previous: page.previous_cursor,
            },
        }
    }

    fn mark(rate: &CallRate) -> (&'static str, String) {
        ("data-prefix", rate.fields.prefix.clone())
    }
}

impl EditResource for Rates {
    type Save = SaveRate;
    type Delete = DeleteRate;

    fn id(rate: &CallRate) -> String {
        rate.id.clone()
    }

    fn label(rate: &CallRate) -> String {
        rate.fields.prefix.clone()
    }

    fn save(tenant: Option<String>, id: Option<String>, body: Map<String, Value>) -> SaveRate {
        SaveRate { tenant, id, body }
    }

    fn delete(tenant: Option<String>, id: String) -> DeleteRate {
        DeleteRate { tenant, id }
    }
}

/// The rates page: every field a sortable column, the CSV export on the
/// toolbar, the deck upload below it.
#[component]
pub fn RatesPage() -> impl IntoView {
    let tenant = use_tenant();
    let export_href = move || {
        let mut q = ParamsMap::new();
        if let Some(t) = tenant.get() {
            q.insert("tenant", t);
        }
        format!("/portal/export/call_rates.csv{}", q.to_query_string())
    };
    let export = move || {
        view! {
            <a class="button secondary" href=export_href download="call_rates.csv" rel="external" data-testid="export">
                "Export CSV"
            </a>
        }
    };
    let columns = FIELDS
        .iter()
        .map(|f| {
            let name = f.name;
            let column =
                Column::new(name, f.short, move |rate: &CallRate| value_of(rate, name)).sortable();
            if matches!(f.kind, Kind::Whole | Kind::Money) {
                column.numeric()
            } else {
                column
            }
        })
        .collect::<Vec<_>>();
    let changes = Changes::of::<Rates>(|(rate, form)| {
        view! { <RateEditor rate=rate form=form /> }.into_any()
    });
    // Each import reloads the list.
    let imports = RwSignal::new(0usize);
    let deck = move || view! { <DeckUpload imported=move |()| imports.update(|n| *n += 1) /> };
    view! {
        <ListPage
            resource=Rates
            title="Call rates"
            columns=columns
            search=Search {
                placeholder: "Prefix or description",
                label: "Search rates",
                page_size: PAGE_SIZE,
            }
            actions=export
            changes=changes
            panel=deck
            reload=imports
        />
    }
}

/// The form's values as the validator (and the server) read them: blank
/// inputs are left out, so a required one is named as missing.
fn body_of(values: &[(&'static Field, RwSignal<String>)]) -> Map<String, Value> {
    let mut body = Map::new();
    for (field, value) in values {
        let text = value.get_untracked();
        let text = if field.name == "description" {
            text
        } else {
            text.trim().to_string()
        };
        if !text.is_empty() || field.name == "description" {
            body.insert(field.name.to_string(), Value::String(text));
        }
    }
    body
}

#[component]
fn RateEditor(rate: Option<CallRate>, form: RowForm) -> impl IntoView {
    let values: Vec<(&'static Field, RwSignal<String>)> = FIELDS
        .iter()
        .map(|f| {
            let initial = match &rate {
                Some(r) => value_of(r, f.name),
                None => f.default.to_string(),
            };
            (f, RwSignal::new(initial))
        })
        .collect();
    let errors = form.errors;
    let inputs = values
        .iter()
        .map(|&(field, value)| match field.kind {
            Kind::RateType => {
                let options = RATE_TYPES
                    .iter()
                    .map(|t| (t.to_string(), t.to_string()))
                    .collect();
                view! { <SelectField form="rate" name=field.name label=field.label value=value errors=errors options=options /> }
                    .into_any()
            }
            kind => {
                let mode = match kind {
                    Kind::Whole => "numeric",
                    Kind::Money => "decimal",
                    _ => "text",
                };
                let wide = field.name == "description";
                view! { <TextField form="rate" name=field.name label=field.label value=value errors=errors mode=mode wide=wide /> }
                    .into_any()
            }
        })
        .collect_view();
    let names: Vec<&'static str> = FIELDS.iter().map(|f| f.name).collect();
    let check = move |()| {
        let body = body_of(&values);
        let problems = CallRateFields::from_json(&body).err().unwrap_or_default();
        (body, problems)
    };
    view! {
        <EditorForm form=form fields=names check=check>
            {inputs}
        </EditorForm>
    }
}
