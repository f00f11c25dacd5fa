//! `/billing-plans`: which tariff rates the calls to a prefix, and how the
//! accounts under it are billed; a page of the
//! [list-page skeleton](crate::components::list_page).

use std::future::Future;

use leptos::prelude::*;
use leptos_router::params::ParamsMap;
use model::billing_plan::{BillingCycle, BillingPlanPatch};
use model::FieldError;
use serde_json::{Map, Value};

use crate::components::form::{CheckField, EditorForm, RowForm, SelectField, TextField};
use crate::components::list_page::{
    Changes, Column, EditResource, ListPage, ListResource, Rows, Window,
};
use crate::components::tenant::use_tenant;
use crate::functions::billing_plans::{
    list_billing_plans, DeleteBillingPlan, PlanList, PlanRow, SaveBillingPlan,
};
use crate::functions::tariffs::{list_tariffs, TariffRow};

/// The fields of the form.
const FIELDS: [&str; 9] = [
    "prefix",
    "tariff_id",
    "description",
    "billing_cycle",
    "billing_day",
    "currency",
    "suspend_mode",
    "round_up",
    "prepaid",
];

const CYCLES: [BillingCycle; 3] = [
    BillingCycle::Weekly,
    BillingCycle::BiWeekly,
    BillingCycle::Monthly,
];

fn cycle_label(cycle: BillingCycle) -> &'static str {
    match cycle {
        BillingCycle::Weekly => "Weekly",
        BillingCycle::BiWeekly => "Every two weeks",
        BillingCycle::Monthly => "Monthly",
    }
}

/// What the billing day means for a cycle.
fn day_label(cycle: BillingCycle, day: i64) -> String {
    const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    match cycle {
        BillingCycle::Monthly => format!("day {day}"),
        _ => usize::try_from(day - 1)
            .ok()
            .and_then(|i| WEEKDAYS.get(i))
            .map_or_else(|| day.to_string(), |d| d.to_string()),
    }
}

/// A billing plan as the table shows it: with its tariff's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub row: PlanRow,
    pub tariff: String,
}

/// The billing plans, as the list page lists them.
pub struct BillingPlans;

impl ListResource for BillingPlans {
    const PATH: &'static str = "/billing-plans";
    const KEY: &'static str = "plan";
    const NOUN: &'static str = "billing plan";
    const NOUNS: &'static str = "billing plans";

    type Args = ();
    type List = PlanList;
    type Row = Plan;

    fn args(_query: &ParamsMap) {}

    fn list(
        tenant: Option<String>,
        (): (),
    ) -> impl Future<Output = Result<Option<PlanList>, ServerFnError>> + Send + 'static {
        list_billing_plans(tenant)
    }

    fn rows(list: PlanList) -> Rows<Plan> {
        let tariff_name = |id: &str| {
            list.tariffs
                .iter()
                .find(|t| t.id == id)
                .map(|t| t.tariff.name.clone())
                .unwrap_or_default()
        };
        Rows {
            items: list
                .items
                .iter()
                .map(|row| Plan {
                    tariff: tariff_name(&row.tariff_id),
                    row: row.clone(),
                })
                .collect(),
            count: list.count,
            window: Window::First { order: "by prefix" },
        }
    }

    fn mark(plan: &Plan) -> (&'static str, String) {
        ("data-prefix", plan.row.plan.prefix.clone())
    }
}

impl EditResource for BillingPlans {
    type Save = SaveBillingPlan;
    type Delete = DeleteBillingPlan;

    fn id(plan: &Plan) -> String {
        plan.row.id.clone()
    }

    fn label(plan: &Plan) -> String {
        plan.row.plan.prefix.clone()
    }

    fn save(
        tenant: Option<String>,
        id: Option<String>,
        body: Map<String, Value>,
    ) -> SaveBillingPlan {
        SaveBillingPlan { tenant, id, body }
    }

    fn delete(tenant: Option<String>, id: String) -> DeleteBillingPlan {
        DeleteBillingPlan { tenant, id }
    }
}

/// The billing plans page.
#[component]
pub fn BillingPlansPage() -> impl IntoView {
    let tenant = use_tenant();
    // What a plan can use; a plan's save does not change it.
    let tariff_choices = Resource::new(move || tenant.get(), list_tariffs);
    let yes_no = |b: bool| if b { "yes" } else { "no" };
    let columns = vec![
        Column::new("prefix", "Prefix", |p: &Plan| p.row.plan.prefix.clone()),
        Column::new("tariff", "Tariff", |p: &Plan| p.tariff.clone()),
        Column::new("description", "Description", |p: &Plan| {
            p.row.plan.description.clone()
        }),
        Column::new("billing_cycle", "Billing cycle", |p: &Plan| {
            cycle_label(p.row.plan.billing_cycle)
        }),
        Column::new("billing_day", "Billing day", |p: &Plan| {
            day_label(p.row.plan.billing_cycle, p.row.plan.billing_day)
        }),
        Column::new("round_up", "Round up", move |p: &Plan| {
            yes_no(p.row.plan.round_up)
        }),
        Column::new("prepaid", "Prepaid", move |p: &Plan| {
            yes_no(p.row.plan.prepaid)
        }),
        Column::new("currency", "Currency", |p: &Plan| {
            p.row.plan.currency.clone()
        }),
        Column::new("suspend_mode", "Suspend mode", |p: &Plan| {
            p.row.plan.suspend_mode
        })
        .numeric(),
    ];
    let editor = move |(plan, form): (Option<Plan>, RowForm)| {
        view! {
            <Suspense fallback=|| ()>
                {move || {
                    let row = plan.clone().map(|p| p.row);
                    let form = form.clone();
                    Suspend::new(async move {
                        let tariffs = match tariff_choices.await {
                            Ok(Some(list)) => list.items,
                            _ => Vec::new(),
                        };
                        view! { <PlanEditor row=row tariffs=tariffs form=form /> }
                    })
                }}
            </Suspense>
        }
        .into_any()
    };
    let changes = Changes::of::<BillingPlans>(editor);
    view! {
        <ListPage
            resource=BillingPlans
            title="Billing plans"
            columns=columns
            hint="A call is rated with the tariff of the plan with the longest prefix of its number; without one, with the default tariff."
            empty="No billing plans yet: every call is rated with the default tariff."
            changes=changes
        />
    }
}

#[component]
fn PlanEditor(row: Option<PlanRow>, tariffs: Vec<TariffRow>, form: RowForm) -> impl IntoView {
    let plan = row.as_ref().map(|r| &r.plan);
    let text = |f: &dyn Fn(&model::billing_plan::BillingPlan) -> String, default: &str| {
        RwSignal::new(plan.map_or_else(|| default.to_string(), f))
    };
    let prefix = text(&|p| p.prefix.clone(), "");
    let description = text(&|p| p.description.clone(), "");
    let cycle = text(&|p| p.billing_cycle.number().to_string(), "3");
    let day = text(&|p| p.billing_day.to_string(), "1");
    let currency = text(&|p| p.currency.clone(), "");
    let suspend_mode = text(&|p| p.suspend_mode.to_string(), "0");
    let default_tariff = tariffs
        .iter()
        .find(|t| t.tariff.is_default)
        .or(tariffs.first())
        .map(|t| t.id.clone())
        .unwrap_or_default();
    let tariff_id = RwSignal::new(row.as_ref().map_or(default_tariff, |r| r.tariff_id.clone()));
    let round_up = RwSignal::new(plan.is_some_and(|p| p.round_up));
    let prepaid = RwSignal::new(plan.is_none_or(|p| p.prepaid));
    let tariff_options: Vec<(String, String)> = tariffs
        .iter()
        .map(|t| {
            (
                t.id.clone(),
                format!("{} ({})", t.tariff.name, t.tariff.currency),
            )
        })
        .collect();
    let cycle_options: Vec<(String, String)> = CYCLES
        .iter()
        .map(|c| (c.number().to_string(), cycle_label(*c).to_string()))
        .collect();

    let errors = form.errors;
    let is_new = form.is_new;

    let check = move |()| {
        // Blank inputs are left out: a new plan then takes the default, and
        // a missing prefix is named as such.
        let mut body = Map::new();
        for (name, value) in [
            ("prefix", prefix),
            ("tariff_id", tariff_id),
            ("billing_cycle", cycle),
            ("billing_day", day),
            ("currency", currency),
            ("suspend_mode", suspend_mode),
        ] {
            let text = value.get_untracked().trim().to_string();
            if !text.is_empty() {
                body.insert(name.into(), Value::String(text));
            }
        }
        body.insert(
            "description".into(),
            Value::String(description.get_untracked()),
        );
        body.insert("round_up".into(), Value::Bool(round_up.get_untracked()));
        body.insert("prepaid".into(), Value::Bool(prepaid.get_untracked()));
        let mut problems = BillingPlanPatch::from_json(&body).err().unwrap_or_default();
        if is_new {
            for name in ["prefix", "tariff_id"] {
                if !body.contains_key(name) && !problems.iter().any(|e| e.field == name) {
                    problems.push(FieldError::new(name, "is required"));
                }
            }
        }
        (body, problems)
    };

    view! {
        <EditorForm form=form fields=FIELDS.to_vec() check=check>
            <TextField form="plan" name="prefix" label="Prefix" value=prefix errors=errors mode="numeric" />
            <SelectField form="plan" name="tariff_id" label="Tariff" value=tariff_id errors=errors options=tariff_options />
            <SelectField form="plan" name="billing_cycle" label="Billing cycle" value=cycle errors=errors options=cycle_options />
            <TextField
                form="plan"
                name="billing_day"
                label="Billing day (weekday 1–7, or day of month 1–28)"
                value=day
                errors=errors
                mode="numeric"
            />
            <TextField
                form="plan"
                name="currency"
                label="Currency (ISO 4217)"
                value=currency
                errors=errors
                placeholder="The tariff's"
            />
            <TextField form="plan" name="suspend_mode" label="Suspend mode" value=suspend_mode errors=errors mode="numeric" />
            <CheckField form="plan" name="round_up" label="Round amounts up" value=round_up errors=errors />
            <CheckField form="plan" name="prepaid" label="Prepaid" value=prepaid errors=errors />
            <TextField form="plan" name="description" label="Description" value=description errors=errors wide=true />
        </EditorForm>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn billing_days_read_as_weekdays_or_days_of_the_month() {
        assert_eq!(day_label(BillingCycle::Weekly, 1), "Mon");
        assert_eq!(day_label(BillingCycle::BiWeekly, 7), "Sun");
        assert_eq!(day_label(BillingCycle::Monthly, 28), "day 28");
    }
}
