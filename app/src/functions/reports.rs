//! The spend reports of the portal (the Reports page, the charts on Home):
//! a range of days checked the same way in the browser and on the server,
//! and one answer with the range's figures and its charts, drawn on the
//! server ([`crate::charts`]) from the rollups and the ledger
//! (`billing::reports`, `billing::balances::history`), each with the table
//! of its numbers.

use crate::functions::codec::Json;
use leptos::prelude::*;
use model::FieldError;
use serde::{Deserialize, Serialize};

use super::days::{check_day_range, day_start_ms, days_between, Day};

/// The days a report covers unless the page says: the last 30, today's
/// included.
pub const DEFAULT_DAYS: i64 = 30;
/// The most days one report covers (as the API's reports).
pub const MAX_DAYS: i64 = 366;

/// The report's range as the page's URL holds it: days `YYYY-MM-DD` (UTC),
/// both included, either optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportArgs {
    pub from: Option<String>,
    pub to: Option<String>,
}

impl ReportArgs {
    /// What is wrong with the days, field by field.
    pub fn check(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if let (Some(from), Some(to)) = check_day_range(&self.from, &self.to, &mut errors) {
            if errors.is_empty() && days_between(from, to) > MAX_DAYS {
                errors.push(too_long());
            }
        }
        errors
    }

    /// The first and last day, the defaults taken: `to` today (or the
    /// first day, when that is later), `from` the 30 days up to `to`.
    /// Answers the problems when they are not a range of at most
    /// [`MAX_DAYS`] days.
    pub fn days(&self, today: Day) -> Result<(Day, Day), Vec<FieldError>> {
        let mut errors = Vec::new();
        let (from, to) = check_day_range(&self.from, &self.to, &mut errors);
        if !errors.is_empty() {
            return Err(errors);
        }
        let to = to.unwrap_or_else(|| from.map_or(today, |from| from.max(today)));
        let from = from.unwrap_or_else(|| {
            super::days::day_of_ms(day_start_ms(to) - (DEFAULT_DAYS - 1) * 86_400_000)
        });
        if days_between(from, to) > MAX_DAYS {
            return Err(vec![too_long()]);
        }
        Ok((from, to))
    }
}

fn too_long() -> FieldError {
    FieldError::new(
        "to",
        format!("must be at most {MAX_DAYS} days from the first day"),
    )
}

/// Which of the report a page shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReportPart {
    /// Spend per day and the top destinations by cost (Home).
    Home,
    /// Everything: the figures and every chart (the Reports page).
    Full,
}

/// One figure of a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FigureView {
    pub key: String,
    pub title: String,
    pub value: String,
    pub sub: String,
}

/// The numbers of a chart as a table: its first column names the row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableView {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// One chart: its SVG markup (escaped on the server) and its table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChartView {
    /// Names its elements: `chart-{key}`.
    pub key: String,
    pub title: String,
    /// What the chart shows, in a sentence.
    pub note: String,
    pub svg: String,
    pub table: TableView,
}

/// A report of the scope's calls over a range of days.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportView {
    /// The first and the last day (`YYYY-MM-DD`, both included).
    pub from: String,
    pub to: String,
    pub currency: String,
    /// Whether it is one user's own calls (else the tenant's).
    pub own: bool,
    pub figures: Vec<FigureView>,
    pub charts: Vec<ChartView>,
}

/// The report of the tenant acted on (its administrators) or of one's own
/// calls and account (a standard user) over the days `args` names; `None`
/// until a system administrator has chosen a tenant.
#[server(prefix = "/portal/fn", endpoint = "get_report", input = Json, output = Json)]
pub async fn get_report(
    tenant: Option<String>,
    args: ReportArgs,
    part: ReportPart,
) -> Result<Option<ReportView>, ServerFnError> {
    use crate::server::{db, reading_scope};
    use ::billing::reports::GroupBy;

    let Some(scope) = reading_scope(tenant).await? else {
        return Ok(None);
    };
    super::own_or_managers(&scope, "see its reports")?;
    let today = super::days::day_of_ms(::billing::db::now_ms());
    let (from, to) = args.days(today).map_err(super::invalid)?;
    let (start, end) = (day_start_ms(from), day_start_ms(super::days::next_day(to)));
    let db = db()?;
    let by_day = super::answer(db.spend_report(&scope, start, end, GroupBy::Day).await)?;
    let by_destination = super::answer(
        db.spend_report(&scope, start, end, GroupBy::Destination)
            .await,
    )?;
    let currency = by_day.currency.clone();
    let mut charts = vec![
        draw::spend_per_day(from, to, &by_day.items, &currency),
        draw::top_by_cost(&by_destination.items, &currency),
    ];
    let mut figures = Vec::new();
    if part == ReportPart::Full {
        charts.push(draw::top_by_minutes(&by_destination.items, &currency));
        let by_hour = super::answer(
            db.spend_report(&scope, start, end, GroupBy::HourOfDay)
                .await,
        )?;
        charts.push(draw::calls_per_hour(&by_hour.items, &currency));
        let balance = super::answer(db.balance_history(&scope, start, end).await)?;
        charts.push(draw::balance_per_day(&balance));
        let summary = super::answer(db.spend_summary(&scope, start, end).await)?;
        figures = draw::figures(&summary, &balance);
    }
    Ok(Some(ReportView {
        from: super::days::day_text(from),
        to: super::days::day_text(to),
        currency,
        own: scope.only_own(),
        figures,
        charts,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(from: Option<&str>, to: Option<&str>) -> ReportArgs {
        ReportArgs {
            from: from.map(str::to_string),
            to: to.map(str::to_string),
        }
    }

    fn fields(errors: Vec<FieldError>) -> Vec<String> {
        errors.into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn the_range_defaults_to_the_last_30_days() {
        let today = (2026, 12, 1);
        assert_eq!(args(None, None).days(today), Ok(((2026, 11, 2), today)));
        assert_eq!(
            args(None, Some("2026-03-01")).days(today),
            Ok(((2026, 1, 31), (2026, 3, 1)))
        );
        assert_eq!(
            args(Some("2026-11-20"), None).days(today),
            Ok(((2026, 11, 20), today))
        );
        // A first day after today is the whole range.
        assert_eq!(
            args(Some("2027-01-05"), None).days(today),
            Ok(((2027, 1, 5), (2027, 1, 5)))
        );
    }

    #[test]
    fn a_range_is_checked_at_its_fields() {
        assert!(args(Some("2026-01-01"), Some("2027-01-01"))
            .check()
            .is_empty());
        assert_eq!(
            fields(args(Some("2026-01-01"), Some("2027-01-02")).check()),
            ["to"]
        );
        assert_eq!(fields(args(Some("01/02/2026"), None).check()), ["from"]);
        assert_eq!(
            fields(args(Some("2026-02-01"), Some("2026-01-31")).check()),
            ["to"]
        );
        // The default end is checked where it is known: on the server.
        let far = args(Some("2024-01-01"), None);
        assert!(far.check().is_empty());
        assert_eq!(
            far.days((2026, 12, 1)).map_err(fields),
            Err(vec!["to".to_string()])
        );
    }
}

/// The charts and figures of a report, from what the billing layer
/// answers.
#[cfg(feature = "ssr")]
mod draw {
    use ::billing::balances::BalanceHistory;
    use ::billing::reports::{SpendItem, SpendSummary};
    use model::Money;
    use rust_decimal::{Decimal, RoundingStrategy};

    use super::{ChartView, FigureView, TableView};
    use crate::charts::{self, Chart, Point};
    use crate::functions::days::{day_text, next_day, Day};

    /// Seconds as minutes, one decimal.
    fn minutes(seconds: i64) -> Decimal {
        (Decimal::from(seconds) / Decimal::from(60))
            .round_dp_with_strategy(1, RoundingStrategy::MidpointAwayFromZero)
    }

    fn money(m: Money, currency: &str) -> String {
        format!("{} {currency}", m.to_fixed())
    }

    fn calls_text(n: i64) -> String {
        if n == 1 {
            "1 call".to_string()
        } else {
            format!("{n} calls")
        }
    }

    /// A destination as the charts name it: prefix and description.
    fn destination(item: &SpendItem) -> String {
        if item.key.is_empty() {
            return "No rate".to_string();
        }
        match item.description.as_deref().map(str::trim) {
            Some(d) if !d.is_empty() => format!("{} {d}", item.key),
            _ => item.key.clone(),
        }
    }

    /// What each day from `from` to `to` spent (days without calls 0).
    pub fn spend_per_day(from: Day, to: Day, items: &[SpendItem], currency: &str) -> ChartView {
        let mut points = Vec::new();
        let mut rows = Vec::new();
        let mut day = from;
        loop {
            let text = day_text(day);
            let item = items.iter().find(|i| i.key == text);
            let (calls, answered, seconds, cost) = item.map_or((0, 0, 0, Money::ZERO), |i| {
                (i.calls, i.answered, i.seconds, i.cost)
            });
            points.push(Point {
                label: text.get(5..).unwrap_or_default().to_string(),
                value: cost.decimal(),
                hover: format!(
                    "{text}: {} · {}, {answered} answered, {} min",
                    money(cost, currency),
                    calls_text(calls),
                    minutes(seconds)
                ),
            });
            rows.push(vec![
                text,
                calls.to_string(),
                answered.to_string(),
                minutes(seconds).to_string(),
                cost.to_fixed(),
            ]);
            if day >= to {
                break;
            }
            day = next_day(day);
        }
        let chart = Chart {
            title: format!("Spend per day ({currency})"),
            unit: currency.to_string(),
            points,
            empty: "No days".into(),
            whole: false,
        };
        ChartView {
            key: "spend-per-day".into(),
            title: "Spend per day".into(),
            note: format!("What the calls of each day (UTC) cost, in {currency}."),
            svg: charts::columns(&chart),
            table: TableView {
                columns: vec![
                    "Day".into(),
                    "Calls".into(),
                    "Answered".into(),
                    "Minutes".into(),
                    format!("Cost ({currency})"),
                ],
                rows,
            },
        }
    }

    fn destinations_table(items: &[&SpendItem], currency: &str) -> TableView {
        TableView {
            columns: vec![
                "Destination".into(),
                "Calls".into(),
                "Minutes".into(),
                format!("Cost ({currency})"),
            ],
            rows: items
                .iter()
                .map(|i| {
                    vec![
                        destination(i),
                        i.calls.to_string(),
                        minutes(i.seconds).to_string(),
                        i.cost.to_fixed(),
                    ]
                })
                .collect(),
        }
    }

    /// The ten destinations that cost the most (the report comes by cost).
    pub fn top_by_cost(items: &[SpendItem], currency: &str) -> ChartView {
        let top: Vec<&SpendItem> = items.iter().take(10).collect();
        let chart = Chart {
            title: format!("Top destinations by cost ({currency})"),
            unit: currency.to_string(),
            points: top
                .iter()
                .map(|i| Point {
                    label: destination(i),
                    value: i.cost.decimal(),
                    hover: format!(
                        "{}: {} · {}, {} min",
                        destination(i),
                        money(i.cost, currency),
                        calls_text(i.calls),
                        minutes(i.seconds)
                    ),
                })
                .collect(),
            empty: "No calls in these days".into(),
            whole: false,
        };
        ChartView {
            key: "top-cost".into(),
            title: "Top destinations by cost".into(),
            note: format!(
                "The ten destinations (matched rates) that cost the most, in {currency}."
            ),
            svg: charts::bars(&chart),
            table: destinations_table(&top, currency),
        }
    }

    /// The ten destinations with the most minutes.
    pub fn top_by_minutes(items: &[SpendItem], currency: &str) -> ChartView {
        let mut by_time: Vec<&SpendItem> = items.iter().collect();
        by_time.sort_by(|a, b| b.seconds.cmp(&a.seconds).then_with(|| a.key.cmp(&b.key)));
        by_time.truncate(10);
        let chart = Chart {
            title: "Top destinations by minutes".into(),
            unit: "min".into(),
            points: by_time
                .iter()
                .map(|i| Point {
                    label: destination(i),
                    value: minutes(i.seconds),
                    hover: format!(
                        "{}: {} min ({} s) · {}, {}",
                        destination(i),
                        minutes(i.seconds),
                        i.seconds,
                        calls_text(i.calls),
                        money(i.cost, currency)
                    ),
                })
                .collect(),
            empty: "No calls in these days".into(),
            whole: false,
        };
        ChartView {
            key: "top-minutes".into(),
            title: "Top destinations by minutes".into(),
            note: "The ten destinations with the longest answered time.".into(),
            svg: charts::bars(&chart),
            table: destinations_table(&by_time, currency),
        }
    }

    /// The calls started in each hour of the day (UTC), over the days.
    pub fn calls_per_hour(items: &[SpendItem], currency: &str) -> ChartView {
        let mut points = Vec::new();
        let mut rows = Vec::new();
        for hour in 0..24 {
            let key = format!("{hour:02}");
            let item = items.iter().find(|i| i.key == key);
            let (calls, answered, seconds, cost) = item.map_or((0, 0, 0, Money::ZERO), |i| {
                (i.calls, i.answered, i.seconds, i.cost)
            });
            let span = format!("{key}:00–{key}:59");
            points.push(Point {
                label: key,
                value: Decimal::from(calls),
                hover: format!(
                    "{span} UTC: {}, {answered} answered · {} min, {}",
                    calls_text(calls),
                    minutes(seconds),
                    money(cost, currency)
                ),
            });
            rows.push(vec![
                span,
                calls.to_string(),
                answered.to_string(),
                minutes(seconds).to_string(),
                cost.to_fixed(),
            ]);
        }
        let chart = Chart {
            title: "Calls per hour of the day (UTC)".into(),
            unit: "calls".into(),
            points,
            empty: String::new(),
            whole: true,
        };
        ChartView {
            key: "calls-per-hour".into(),
            title: "Calls per hour of the day".into(),
            note: "The calls started in each hour of the day (UTC), all the days added up.".into(),
            svg: charts::columns(&chart),
            table: TableView {
                columns: vec![
                    "Hour (UTC)".into(),
                    "Calls".into(),
                    "Answered".into(),
                    "Minutes".into(),
                    format!("Cost ({currency})"),
                ],
                rows,
            },
        }
    }

    /// The account's balance at the end of each day.
    pub fn balance_per_day(history: &BalanceHistory) -> ChartView {
        let currency = &history.currency;
        let chart = Chart {
            title: format!(
                "Balance of {} at the end of each day ({currency})",
                history.account
            ),
            unit: currency.clone(),
            points: history
                .items
                .iter()
                .map(|p| Point {
                    label: p.day.get(5..).unwrap_or_default().to_string(),
                    value: p.balance.decimal(),
                    hover: format!("{}: {}", p.day, money(p.balance, currency)),
                })
                .collect(),
            empty: "These days have not begun".into(),
            whole: false,
        };
        let whose = if history.user_id.is_some() {
            format!("{}'s account", history.account)
        } else {
            format!("the account of {}", history.account)
        };
        ChartView {
            key: "balance".into(),
            title: "Balance over time".into(),
            note: format!(
                "The balance of {whose} at the end of each day (UTC), from its ledger, in {currency}."
            ),
            svg: charts::line(&chart),
            table: TableView {
                columns: vec!["Day".into(), format!("Balance ({currency})")],
                rows: history
                    .items
                    .iter()
                    .map(|p| vec![p.day.clone(), p.balance.to_fixed()])
                    .collect(),
            },
        }
    }

    /// The range's figures: spend, answer rate, average call duration and
    /// the balance at its end.
    pub fn figures(summary: &SpendSummary, history: &BalanceHistory) -> Vec<FigureView> {
        let currency = &summary.currency;
        let figure = |key: &str, title: &str, value: String, sub: String| FigureView {
            key: key.into(),
            title: title.into(),
            value,
            sub,
        };
        let mut out = vec![
            figure(
                "spend",
                "Spend",
                money(summary.cost, currency),
                format!(
                    "{} · {} min",
                    calls_text(summary.calls),
                    minutes(summary.seconds)
                ),
            ),
            figure(
                "answer-rate",
                "Answer rate",
                summary.answer_rate.map_or_else(
                    || "—".to_string(),
                    |r| format!("{} %", (r * Decimal::from(100)).normalize()),
                ),
                format!(
                    "{} of {} answered",
                    summary.answered,
                    calls_text(summary.calls)
                ),
            ),
            figure(
                "average-duration",
                "Average call duration",
                summary
                    .average_duration
                    .map_or_else(|| "—".to_string(), |d| format!("{} s", d.normalize())),
                "Per answered call".to_string(),
            ),
        ];
        if let Some(last) = history.items.last() {
            out.push(figure(
                "balance",
                "Balance",
                money(last.balance, currency),
                format!("At the end of {}", last.day),
            ));
        }
        out
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use ::billing::balances::BalancePoint;

        fn item(
            key: &str,
            description: Option<&str>,
            calls: i64,
            seconds: i64,
            cost: i64,
        ) -> SpendItem {
            SpendItem {
                key: key.into(),
                description: description.map(str::to_string),
                calls,
                answered: calls - 1,
                seconds,
                cost: Money::from_units(cost),
            }
        }

        #[test]
        fn every_day_of_the_range_has_its_column() {
            let items = [item("2026-11-02", None, 3, 270, 123_450)];
            let chart = spend_per_day((2026, 11, 1), (2026, 11, 3), &items, "EUR");
            assert_eq!(chart.table.rows.len(), 3);
            assert_eq!(
                chart.table.rows[1],
                ["2026-11-02", "3", "2", "4.5", "1.23450"]
            );
            assert_eq!(chart.table.rows[0][4], "0.00000");
            assert!(chart
                .svg
                .contains("<title>2026-11-02: 1.23450 EUR · 3 calls, 2 answered, 4.5 min</title>"));
            assert_eq!(chart.svg.matches("<rect").count(), 3);
        }

        #[test]
        fn destinations_are_ranked_and_their_names_escaped() {
            let items = [
                item("44", Some("United <Kingdom> & co"), 2, 600, 500_000),
                item("1", Some("USA"), 5, 1200, 100_000),
                item("", None, 1, 10, 0),
            ];
            let cost = top_by_cost(&items, "EUR");
            assert_eq!(cost.table.rows[0][0], "44 United <Kingdom> & co");
            assert!(cost
                .svg
                .contains("44 United &lt;Kingdom&gt; &amp; co: 5.00000 EUR"));
            assert!(!cost.svg.contains("<Kingdom>"));
            assert_eq!(cost.table.rows[2][0], "No rate");
            let time = top_by_minutes(&items, "EUR");
            let order: Vec<&str> = time.table.rows.iter().map(|r| r[0].as_str()).collect();
            assert_eq!(order, ["1 USA", "44 United <Kingdom> & co", "No rate"]);
            assert!(time
                .svg
                .contains("1 USA: 20 min (1200 s) · 5 calls, 1.00000 EUR"));
        }

        #[test]
        fn the_hours_of_the_day_are_all_there() {
            let chart = calls_per_hour(&[item("09", None, 4, 100, 0)], "EUR");
            assert_eq!(chart.table.rows.len(), 24);
            assert_eq!(chart.table.rows[9][..3], ["09:00–09:59", "4", "3"]);
            assert!(chart
                .svg
                .contains("<title>09:00–09:59 UTC: 4 calls, 3 answered"));
        }

        #[test]
        fn the_figures_say_the_rates() {
            let summary = SpendSummary {
                calls: 3,
                answered: 2,
                seconds: 145,
                cost: Money::from_units(250_000),
                answer_rate: Some(Decimal::new(6667, 4)),
                average_duration: Some(Decimal::new(725, 1)),
                currency: "EUR".into(),
            };
            let history = BalanceHistory {
                user_id: None,
                account: "Acme".into(),
                currency: "EUR".into(),
                items: vec![BalancePoint {
                    day: "2026-11-03".into(),
                    balance: Money::from_units(-150_000),
                }],
            };
            let figures = figures(&summary, &history);
            let values: Vec<&str> = figures.iter().map(|f| f.value.as_str()).collect();
            assert_eq!(values, ["2.50000 EUR", "66.67 %", "72.5 s", "-1.50000 EUR"]);
            let chart = balance_per_day(&history);
            assert!(chart
                .svg
                .contains("<title>2026-11-03: -1.50000 EUR</title>"));
            assert_eq!(chart.table.rows, [["2026-11-03", "-1.50000"]]);
        }
    }
}
