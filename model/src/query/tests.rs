//! Tests of the whole pipeline: raw parameters → `ListQuery` → SQL.

#![allow(clippy::unwrap_used)]

use proptest::prelude::*;

use super::testing::{EVENTS, PLAIN, RATES, RATE_TYPES};
use super::*;

fn with_filter(filter: &str) -> ListParams {
    ListParams {
        filter: Some(filter.to_owned()),
        ..ListParams::default()
    }
}

fn parse_filter(spec: &ResourceSpec, filter: &str) -> Result<ListQuery, QueryError> {
    ListQuery::parse(&with_filter(filter), spec)
}

/// `(where_sql, binds)` for a filter on `RATES`, placeholders from 1.
fn sql(filter: &str) -> (String, Vec<SqlValue>) {
    sql_on(&RATES, filter)
}

fn sql_on(spec: &ResourceSpec, filter: &str) -> (String, Vec<SqlValue>) {
    let query = parse_filter(spec, filter).unwrap();
    let parts = query.to_sql(spec, 1);
    (parts.where_sql, parts.binds)
}

/// The message of a filter error on `RATES`.
fn filter_error(filter: &str) -> String {
    filter_error_on(&RATES, filter)
}

fn filter_error_on(spec: &ResourceSpec, filter: &str) -> String {
    let error = parse_filter(spec, filter).unwrap_err();
    assert_eq!(error.parameter, "filter", "{error}");
    error.message
}

fn param_error(params: ListParams) -> QueryError {
    ListQuery::parse(&params, &RATES).unwrap_err()
}

fn int(n: i64) -> SqlValue {
    SqlValue::Int(n)
}

fn text(s: &str) -> SqlValue {
    SqlValue::Text(s.to_owned())
}

// ---------------------------------------------------------------- defaults

#[test]
fn empty_params_give_defaults() {
    let query = ListQuery::parse(&ListParams::default(), &RATES).unwrap();
    assert_eq!(query, ListQuery::default());
    assert_eq!(query.top, 100);
    assert_eq!(query.skip, 0);
    let parts = query.to_sql(&RATES, 1);
    assert_eq!(
        parts,
        SqlParts {
            where_sql: String::new(),
            order_sql: "id ASC".to_owned(),
            binds: vec![],
        }
    );
}

#[test]
fn blank_text_params_count_as_absent() {
    let params = ListParams {
        filter: Some("  ".into()),
        search: Some(" ".into()),
        orderby: Some(String::new()),
        skip: None,
        top: None,
        cursor: Some(" ".into()),
    };
    assert_eq!(
        ListQuery::parse(&params, &RATES).unwrap(),
        ListQuery::default()
    );
}

#[test]
fn blank_numbers_are_refused() {
    for (skip, top, parameter) in [
        (Some(String::new()), None, "skip"),
        (None, Some(" ".to_string()), "top"),
    ] {
        let params = ListParams {
            skip,
            top,
            ..ListParams::default()
        };
        let err = ListQuery::parse(&params, &RATES).unwrap_err();
        assert_eq!(err.parameter, parameter);
        assert!(err.message.contains("whole number"), "{}", err.message);
    }
}

#[test]
fn params_deserialize_with_missing_fields() {
    let params: ListParams = serde_json::from_str(r#"{"top":"5","filter":"a eq 1"}"#).unwrap();
    assert_eq!(params.top.as_deref(), Some("5"));
    assert_eq!(params.filter.as_deref(), Some("a eq 1"));
    assert_eq!(params.skip, None);
    let empty: ListParams = serde_json::from_str("{}").unwrap();
    assert_eq!(empty, ListParams::default());
    assert_eq!(
        serde_json::to_string(&params).unwrap(),
        r#"{"filter":"a eq 1","top":"5"}"#
    );
}

#[test]
fn query_error_displays_its_message() {
    let error = QueryError::new("top", "top must be between 1 and 100, got 0");
    assert_eq!(error.to_string(), "top must be between 1 and 100, got 0");
    let boxed: Box<dyn std::error::Error> = Box::new(error);
    assert_eq!(boxed.to_string(), "top must be between 1 and 100, got 0");
}

// ---------------------------------------------------------------- top, skip

fn top(value: &str) -> Result<u32, QueryError> {
    let params = ListParams {
        top: Some(value.to_owned()),
        ..ListParams::default()
    };
    ListQuery::parse(&params, &RATES).map(|q| q.top)
}

fn skip(value: &str) -> Result<u64, QueryError> {
    let params = ListParams {
        skip: Some(value.to_owned()),
        ..ListParams::default()
    };
    ListQuery::parse(&params, &RATES).map(|q| q.skip)
}

#[test]
fn top_bounds() {
    assert_eq!(top("1").unwrap(), 1);
    assert_eq!(top("100").unwrap(), 100);
    assert_eq!(top(" 25 ").unwrap(), 25);
    for bad in ["0", "101", "-1", "99999999999999999999999"] {
        let error = top(bad).unwrap_err();
        assert_eq!(error.parameter, "top");
        assert_eq!(
            error.message,
            format!("top must be between 1 and 100, got {bad}")
        );
    }
    for bad in ["abc", "1.5", "1e2", "0x10", "-"] {
        let error = top(bad).unwrap_err();
        assert_eq!(error.parameter, "top");
        assert_eq!(
            error.message,
            format!("top must be a whole number between 1 and 100, got '{bad}'")
        );
    }
}

#[test]
fn skip_bounds() {
    assert_eq!(skip("0").unwrap(), 0);
    assert_eq!(skip("-0").unwrap(), 0);
    assert_eq!(skip("2147483647").unwrap(), 2_147_483_647);
    for bad in ["2147483648", "-1", "18446744073709551616"] {
        let error = skip(bad).unwrap_err();
        assert_eq!(error.parameter, "skip");
        assert_eq!(
            error.message,
            format!("skip must be between 0 and 2147483647, got {bad}")
        );
    }
    let error = skip("ten").unwrap_err();
    assert_eq!(error.parameter, "skip");
    assert_eq!(
        error.message,
        "skip must be a whole number between 0 and 2147483647, got 'ten'"
    );
}

// ---------------------------------------------------------------- comparisons

#[test]
fn every_comparison_operator() {
    for (keyword, sql_op) in [
        ("eq", "="),
        ("ne", "<>"),
        ("gt", ">"),
        ("ge", ">="),
        ("lt", "<"),
        ("le", "<="),
    ] {
        let (where_sql, binds) = sql(&format!("interval_1 {keyword} 60"));
        assert_eq!(where_sql, format!("(interval_1 {sql_op} $1)"));
        assert_eq!(binds, vec![int(60)]);
    }
}

#[test]
fn keywords_are_case_insensitive_but_fields_are_not() {
    let (where_sql, binds) = sql("prefix EQ '44' AND Not interval_1 Gt 5 oR free_seconds lE 3");
    assert_eq!(
        where_sql,
        "((prefix = $1 AND NOT (interval_1 > $2)) OR free_seconds <= $3)"
    );
    assert_eq!(binds, vec![text("44"), int(5), int(3)]);
    assert_eq!(
        filter_error("Prefix eq '44'"),
        "unknown field 'Prefix' in filter (did you mean 'prefix'?); fields: id, prefix, type, \
         free_seconds, grace_period, interval_1, interval_n, connect_fee, postcall_surcharge, \
         price_1, price_n, description"
    );
}

#[test]
fn literal_on_the_left_is_mirrored() {
    let (where_sql, binds) = sql("5 lt interval_1 and 0.5 ge price_1 and 'x' eq prefix");
    assert_eq!(
        where_sql,
        "(interval_1 > $1 AND price_1 <= $2 AND prefix = $3)"
    );
    assert_eq!(binds, vec![int(5), int(50_000), text("x")]);
}

#[test]
fn ast_shape() {
    let query = parse_filter(&RATES, "not interval_1 eq 1 or prefix eq 'a'").unwrap();
    let interval_1 = RATES.field("interval_1").unwrap();
    let prefix = RATES.field("prefix").unwrap();
    assert_eq!(
        query.filter,
        Some(Expr::Or(vec![
            Expr::Not(Box::new(Expr::Compare {
                field: interval_1,
                op: CompareOp::Eq,
                value: int(1),
            })),
            Expr::Compare {
                field: prefix,
                op: CompareOp::Eq,
                value: text("a"),
            },
        ]))
    );
}

// ---------------------------------------------------------------- precedence

#[test]
fn and_binds_tighter_than_or() {
    let (where_sql, _) = sql("interval_1 eq 1 or interval_1 eq 2 and interval_n eq 3");
    assert_eq!(
        where_sql,
        "(interval_1 = $1 OR (interval_1 = $2 AND interval_n = $3))"
    );
    let (where_sql, _) = sql("interval_1 eq 1 and interval_1 eq 2 or interval_n eq 3");
    assert_eq!(
        where_sql,
        "((interval_1 = $1 AND interval_1 = $2) OR interval_n = $3)"
    );
}

#[test]
fn not_binds_tighter_than_and() {
    let (where_sql, _) = sql("not interval_1 eq 1 and interval_n eq 2");
    assert_eq!(where_sql, "(NOT (interval_1 = $1) AND interval_n = $2)");
    let (where_sql, _) = sql("not not interval_1 eq 1");
    assert_eq!(where_sql, "(NOT (NOT (interval_1 = $1)))");
}

#[test]
fn parentheses_override_precedence() {
    let (where_sql, _) = sql("(interval_1 eq 1 or interval_1 eq 2) and interval_n eq 3");
    assert_eq!(
        where_sql,
        "((interval_1 = $1 OR interval_1 = $2) AND interval_n = $3)"
    );
    let (where_sql, _) = sql("not (interval_1 eq 1 or interval_n eq 2)");
    assert_eq!(where_sql, "(NOT (interval_1 = $1 OR interval_n = $2))");
    let (where_sql, _) = sql("((((interval_1 eq 1))))");
    assert_eq!(where_sql, "(interval_1 = $1)");
}

#[test]
fn same_connectives_are_flattened() {
    let (where_sql, _) = sql("interval_1 eq 1 and (interval_1 eq 2 and interval_1 eq 3)");
    assert_eq!(
        where_sql,
        "(interval_1 = $1 AND interval_1 = $2 AND interval_1 = $3)"
    );
    let (where_sql, _) = sql("(interval_1 eq 1 or interval_1 eq 2) or interval_1 eq 3");
    assert_eq!(
        where_sql,
        "(interval_1 = $1 OR interval_1 = $2 OR interval_1 = $3)"
    );
}

// ---------------------------------------------------------------- strings

#[test]
fn doubled_quotes_are_literal_quotes() {
    let (where_sql, binds) = sql("description eq 'it''s' or description eq ''''");
    assert_eq!(where_sql, "(description = $1 OR description = $2)");
    assert_eq!(binds, vec![text("it's"), text("'")]);
}

#[test]
fn literals_are_never_spliced() {
    let (where_sql, binds) = sql("description eq 'x''; DROP TABLE rates; --'");
    assert_eq!(where_sql, "(description = $1)");
    assert_eq!(binds, vec![text("x'; DROP TABLE rates; --")]);
}

#[test]
fn text_functions_are_case_insensitive_likes() {
    let (where_sql, binds) = sql(
        "startswith(prefix,'44') and EndsWith(description, 'Mobile') and contains(description,'UK')",
    );
    assert_eq!(
        where_sql,
        r"(LOWER(prefix) LIKE $1 ESCAPE '\' AND LOWER(description) LIKE $2 ESCAPE '\' AND LOWER(description) LIKE $3 ESCAPE '\')"
    );
    assert_eq!(binds, vec![text("44%"), text("%mobile"), text("%uk%")]);
}

#[test]
fn like_wildcards_in_function_text_match_literally() {
    let (_, binds) = sql(r"contains(description,'50%_off\now')");
    assert_eq!(binds, vec![text(r"%50\%\_off\\now%")]);
    let (_, binds) = sql(r"startswith(description,'%') or endswith(description,'\')");
    assert_eq!(binds, vec![text(r"\%%"), text(r"%\\")]);
}

#[test]
fn text_functions_work_on_enums() {
    let (where_sql, binds) = sql("startswith(type,'INTER')");
    assert_eq!(where_sql, r"(LOWER(rate_type) LIKE $1 ESCAPE '\')");
    assert_eq!(binds, vec![text("inter%")]);
}

#[test]
fn text_function_compared_with_booleans() {
    let (where_sql, _) = sql("contains(description,'a') eq true");
    assert_eq!(where_sql, r"(LOWER(description) LIKE $1 ESCAPE '\')");
    let (where_sql, _) = sql("contains(description,'a') eq false");
    assert_eq!(where_sql, r"(NOT (LOWER(description) LIKE $1 ESCAPE '\'))");
    let (where_sql, _) = sql("contains(description,'a') NE FALSE");
    assert_eq!(where_sql, r"(LOWER(description) LIKE $1 ESCAPE '\')");
    let (where_sql, _) = sql("not contains(description,'a') and interval_1 eq 1");
    assert_eq!(
        where_sql,
        r"(NOT (LOWER(description) LIKE $1 ESCAPE '\') AND interval_1 = $2)"
    );
    let (where_sql, _) = sql("contains(description,'a') ne true");
    assert_eq!(where_sql, r"(NOT (LOWER(description) LIKE $1 ESCAPE '\'))");
}

#[test]
fn text_function_errors() {
    assert_eq!(
        filter_error("contains(interval_1,'5')"),
        "contains() in filter needs a text field, but 'interval_1' is a whole number field"
    );
    assert_eq!(
        filter_error("startswith(price_1,'5')"),
        "startswith() in filter needs a text field, but 'price_1' is a money field"
    );
    assert_eq!(
        filter_error("substringof('a',description)"),
        "unknown function 'substringof' at position 1 in filter; functions: startswith, endswith, contains"
    );
    assert_eq!(
        filter_error("contains('a',description)"),
        "expected a field name at position 10 in filter, found string 'a'"
    );
    assert_eq!(
        filter_error("contains(description 'a')"),
        "expected ',' at position 22 in filter, found string 'a'"
    );
    assert_eq!(
        filter_error("contains(description,5)"),
        "expected a quoted string at position 22 in filter, found number 5"
    );
    assert_eq!(
        filter_error("contains(description,'a'"),
        "expected ')' at position 25 in filter, found end of filter"
    );
    assert_eq!(
        filter_error("contains(nope,'a')"),
        "unknown field 'nope' in filter; fields: id, prefix, type, free_seconds, grace_period, \
         interval_1, interval_n, connect_fee, postcall_surcharge, price_1, price_n, description"
    );
}

// ---------------------------------------------------------------- search

#[test]
fn search_matches_any_column_and_is_anded_with_the_filter() {
    let params = ListParams {
        filter: Some("type eq 'MOBILE' or type eq 'LOCAL'".into()),
        search: Some("  Vodafone ".into()),
        ..ListParams::default()
    };
    let query = ListQuery::parse(&params, &RATES).unwrap();
    assert_eq!(query.search.as_deref(), Some("Vodafone"));
    let parts = query.to_sql(&RATES, 1);
    assert_eq!(
        parts.where_sql,
        r"((rate_type = $1 OR rate_type = $2) AND (LOWER(prefix) LIKE $3 ESCAPE '\' OR LOWER(description) LIKE $4 ESCAPE '\'))"
    );
    assert_eq!(
        parts.binds,
        vec![
            text("MOBILE"),
            text("LOCAL"),
            text("%vodafone%"),
            text("%vodafone%")
        ]
    );
}

#[test]
fn search_alone() {
    let params = ListParams {
        search: Some("44".into()),
        ..ListParams::default()
    };
    let parts = ListQuery::parse(&params, &RATES).unwrap().to_sql(&RATES, 1);
    assert_eq!(
        parts.where_sql,
        r"(LOWER(prefix) LIKE $1 ESCAPE '\' OR LOWER(description) LIKE $2 ESCAPE '\')"
    );
    // One search column: still parenthesised.
    let parts = ListQuery::parse(&params, &EVENTS)
        .unwrap()
        .to_sql(&EVENTS, 1);
    assert_eq!(parts.where_sql, r"(LOWER(e.notes) LIKE $1 ESCAPE '\')");
}

#[test]
fn search_escapes_like_wildcards() {
    let params = ListParams {
        search: Some(r"100%_A\b".into()),
        ..ListParams::default()
    };
    let parts = ListQuery::parse(&params, &EVENTS)
        .unwrap()
        .to_sql(&EVENTS, 1);
    assert_eq!(parts.binds, vec![text(r"%100\%\_a\\b%")]);
}

#[test]
fn search_errors() {
    let params = ListParams {
        search: Some("x".into()),
        ..ListParams::default()
    };
    let error = ListQuery::parse(&params, &PLAIN).unwrap_err();
    assert_eq!(error.parameter, "search");
    assert_eq!(
        error.message,
        "search is not supported for this list; use filter instead"
    );

    let long = ListParams {
        search: Some("a".repeat(201)),
        ..ListParams::default()
    };
    let error = param_error(long);
    assert_eq!(error.parameter, "search");
    assert_eq!(error.message, "search must be at most 200 characters");
    let ok = ListParams {
        search: Some("é".repeat(200)),
        ..ListParams::default()
    };
    assert!(ListQuery::parse(&ok, &RATES).is_ok());
}

// ---------------------------------------------------------------- placeholders

#[test]
fn placeholders_start_at_first_placeholder() {
    let params = ListParams {
        filter: Some("interval_1 in (1,2) and not price_1 lt 0.1".into()),
        search: Some("x".into()),
        ..ListParams::default()
    };
    let parts = ListQuery::parse(&params, &RATES).unwrap().to_sql(&RATES, 3);
    assert_eq!(
        parts.where_sql,
        r"(interval_1 IN ($3, $4) AND NOT (price_1 < $5) AND (LOWER(prefix) LIKE $6 ESCAPE '\' OR LOWER(description) LIKE $7 ESCAPE '\'))"
    );
    assert_eq!(
        parts.binds,
        vec![int(1), int(2), int(10_000), text("%x%"), text("%x%")]
    );
}

// ---------------------------------------------------------------- null

#[test]
fn null_comparisons() {
    assert_eq!(sql("description eq null").0, "(description IS NULL)");
    assert_eq!(sql("description ne NULL").0, "(description IS NOT NULL)");
    assert_eq!(sql("null eq price_1").0, "(price_1 IS NULL)");
    let (where_sql, binds) = sql("description eq null or interval_1 eq 2");
    assert_eq!(where_sql, "(description IS NULL OR interval_1 = $1)");
    assert_eq!(binds, vec![int(2)]);
    assert_eq!(
        filter_error("price_1 gt null"),
        "null can only be compared with eq or ne, not gt (field 'price_1' in filter)"
    );
    assert_eq!(
        filter_error("null le price_1"),
        "null can only be compared with eq or ne, not ge (field 'price_1' in filter)"
    );
}

// ---------------------------------------------------------------- integers

#[test]
fn integer_literals() {
    assert_eq!(sql("interval_1 eq -3").1, vec![int(-3)]);
    assert_eq!(
        sql("interval_1 eq 9223372036854775807").1,
        vec![int(i64::MAX)]
    );
    assert_eq!(
        filter_error("interval_1 eq 9223372036854775808"),
        "number 9223372036854775808 is out of range for field 'interval_1' in filter"
    );
    assert_eq!(
        filter_error("interval_1 eq 'x'"),
        "field 'interval_1' in filter expects a whole number, got string 'x'"
    );
    assert_eq!(
        filter_error("interval_1 eq 1.5"),
        "field 'interval_1' in filter expects a whole number, got number 1.5"
    );
    assert_eq!(
        filter_error("interval_1 eq true"),
        "field 'interval_1' in filter expects a whole number, got true"
    );
}

// ---------------------------------------------------------------- money

#[test]
fn money_literals_are_scaled_to_five_decimals() {
    for (literal, units) in [
        ("0.05", 5_000),
        ("1", 100_000),
        ("-3", -300_000),
        ("0.00001", 1),
        ("0.050000", 5_000),
        ("12.34567", 1_234_567),
        ("0", 0),
        ("92233720368547.75807", i64::MAX),
    ] {
        assert_eq!(
            sql(&format!("price_1 eq {literal}")).1,
            vec![int(units)],
            "{literal}"
        );
    }
}

#[test]
fn money_literal_errors() {
    assert_eq!(
        filter_error("price_1 eq 0.000001"),
        "field 'price_1' in filter expects a number with at most 5 decimal places, got number 0.000001"
    );
    assert_eq!(
        filter_error("connect_fee eq 92233720368547.75808"),
        "number 92233720368547.75808 is out of range for field 'connect_fee' in filter"
    );
    assert_eq!(
        filter_error("connect_fee eq 123456789012345678901234567890"),
        "number 123456789012345678901234567890 is out of range for field 'connect_fee' in filter"
    );
    assert_eq!(
        filter_error("price_n eq '0.05'"),
        "field 'price_n' in filter expects a number with at most 5 decimal places, got string '0.05'"
    );
}

// ---------------------------------------------------------------- text

#[test]
fn text_fields_need_strings() {
    assert_eq!(
        filter_error("prefix eq 44"),
        "field 'prefix' in filter expects a quoted string, got number 44"
    );
    // Ordering comparisons on text are allowed.
    assert_eq!(sql("prefix ge '44'").0, "(prefix >= $1)");
}

// ---------------------------------------------------------------- enums

#[test]
fn enum_values_are_validated() {
    assert_eq!(sql("type eq 'MOBILE'").1, vec![text("MOBILE")]);
    assert_eq!(sql("type ne 'LOCAL'").0, "(rate_type <> $1)");
    assert_eq!(
        filter_error("type eq 'mobile'"),
        "'mobile' is not a valid value for field 'type' in filter; \
         allowed values: LOCAL, NATIONAL, INTERNATIONAL, MOBILE"
    );
    assert_eq!(
        filter_error("type eq 5"),
        "field 'type' in filter expects one of its quoted values, got number 5"
    );
    assert_eq!(
        filter_error("type gt 'LOCAL'"),
        "'gt' cannot be used with field 'type' in filter; use eq, ne or in"
    );
}

#[test]
fn in_lists() {
    let (where_sql, binds) = sql("type in ('LOCAL', 'MOBILE')");
    assert_eq!(where_sql, "(rate_type IN ($1, $2))");
    assert_eq!(binds, vec![text("LOCAL"), text("MOBILE")]);
    let (where_sql, binds) = sql("price_1 IN (0.5)");
    assert_eq!(where_sql, "(price_1 IN ($1))");
    assert_eq!(binds, vec![int(50_000)]);
    assert_eq!(
        filter_error("type in ('LOCAL','CITY')"),
        "'CITY' is not a valid value for field 'type' in filter; \
         allowed values: LOCAL, NATIONAL, INTERNATIONAL, MOBILE"
    );
    assert_eq!(
        filter_error("type in ()"),
        "expected a value at position 10 in filter, found ')'"
    );
    assert_eq!(
        filter_error("type in 'LOCAL'"),
        "expected '(' after 'in' at position 9 in filter, found string 'LOCAL'"
    );
    assert_eq!(
        filter_error("type in ('LOCAL' 'MOBILE')"),
        "expected ',' or ')' at position 18 in filter, found string 'MOBILE'"
    );
    assert_eq!(
        filter_error("description in ('a', null)"),
        "null cannot be used in an 'in' list (field 'description'); use 'eq null'"
    );
    assert_eq!(
        filter_error("'LOCAL' in (type)"),
        "'in' at position 9 in filter needs a field name on its left"
    );
}

// ---------------------------------------------------------------- ids

#[test]
fn ids_are_decoded() {
    assert_eq!(
        sql("id eq 'rt_42'"),
        ("(id = $1)".to_owned(), vec![int(42)])
    );
    assert_eq!(sql("id in ('rt_1','rt_2')").1, vec![int(1), int(2)]);
    assert_eq!(
        filter_error("id eq 'zz'"),
        "'zz' is not a valid id for field 'id' in filter"
    );
    assert_eq!(
        filter_error("id eq 42"),
        "field 'id' in filter expects a quoted id, got number 42"
    );
}

// ---------------------------------------------------------------- timestamps and bools

#[test]
fn timestamps_become_unix_milliseconds() {
    let (where_sql, binds) = sql_on(&EVENTS, "created ge '2024-01-01T00:00:00Z'");
    assert_eq!(where_sql, "(e.created_ms >= $1)");
    assert_eq!(binds, vec![int(1_704_067_200_000)]);
    assert_eq!(
        sql_on(&EVENTS, "created lt '2024-01-01T02:00:00.123+02:00'").1,
        vec![int(1_704_067_200_123)]
    );
    assert_eq!(
        sql_on(&EVENTS, "created gt '1969-12-31T23:59:59.999Z'").1,
        vec![int(-1)]
    );
}

#[test]
fn timestamp_errors() {
    assert_eq!(
        filter_error_on(&EVENTS, "created gt '2024-01-01'"),
        "field 'created' in filter expects a quoted RFC 3339 timestamp such as \
         '2024-01-01T00:00:00Z', got string '2024-01-01'"
    );
    assert_eq!(
        filter_error_on(&EVENTS, "created gt 1704067200000"),
        "field 'created' in filter expects a quoted RFC 3339 timestamp such as \
         '2024-01-01T00:00:00Z', got number 1704067200000"
    );
    assert_eq!(
        filter_error_on(&EVENTS, "created gt '2024-01-01T00:00:00.0001Z'"),
        "timestamp '2024-01-01T00:00:00.0001Z' for field 'created' in filter is more precise \
         than a millisecond"
    );
}

#[test]
fn booleans() {
    assert_eq!(
        sql_on(&EVENTS, "active eq true"),
        ("(e.active = $1)".to_owned(), vec![SqlValue::Bool(true)])
    );
    assert_eq!(
        sql_on(&EVENTS, "FALSE ne active").1,
        vec![SqlValue::Bool(false)]
    );
    assert_eq!(
        filter_error_on(&EVENTS, "active eq 'true'"),
        "field 'active' in filter expects true or false, got string 'true'"
    );
    assert_eq!(
        filter_error_on(&EVENTS, "active lt true"),
        "'lt' cannot be used with field 'active' in filter; use eq, ne or in"
    );
    assert_eq!(
        filter_error_on(&EVENTS, "contains(active,'t')"),
        "contains() in filter needs a text field, but 'active' is a true/false field"
    );
}

// ---------------------------------------------------------------- field errors

#[test]
fn unknown_and_unfilterable_fields() {
    assert_eq!(
        filter_error_on(&EVENTS, "foo eq 1"),
        "unknown field 'foo' in filter; fields: id, created, active, notes"
    );
    assert_eq!(
        filter_error_on(&EVENTS, "secret eq 'x'"),
        "field 'secret' cannot be used in filter; fields: id, created, active, notes"
    );
    assert_eq!(
        filter_error("interval_1 eq interval_n"),
        "comparing two fields ('interval_1' and 'interval_n') is not supported in filter"
    );
    assert_eq!(
        filter_error("1 eq 1"),
        "the comparison at position 1 in filter has no field; one side must be a field name"
    );
}

// ---------------------------------------------------------------- syntax errors

#[test]
fn syntax_errors_give_positions() {
    let cases = [
        (
            "(interval_1 eq 1",
            "expected ')' at position 17 in filter, found end of filter",
        ),
        (
            "(interval_1 eq 1 interval_n eq 2)",
            "expected ')' at position 18 in filter, found 'interval_n'",
        ),
        (
            "interval_1 eq",
            "expected a field name or a value at position 14 in filter, found end of filter",
        ),
        (
            "interval_1 eq 1 and",
            "expected a field name or a value at position 20 in filter, found end of filter",
        ),
        (
            "and interval_1 eq 1",
            "expected a field name or a value at position 1 in filter, found 'and'",
        ),
        (
            "interval_1 1",
            "expected an operator (eq, ne, gt, ge, lt, le, in) at position 12 in filter, found number 1",
        ),
        (
            "interval_1 equals 1",
            "expected an operator (eq, ne, gt, ge, lt, le, in) at position 12 in filter, found 'equals'",
        ),
        (
            "interval_1",
            "expected an operator (eq, ne, gt, ge, lt, le, in) at position 11 in filter, found end of filter",
        ),
        (
            "interval_1 eq 1)",
            "expected 'and', 'or' or the end of the filter at position 16 in filter, found ')'",
        ),
        (
            "interval_1 eq 1 interval_n eq 2",
            "expected 'and', 'or' or the end of the filter at position 17 in filter, found 'interval_n'",
        ),
        ("()", "expected a field name or a value at position 2 in filter, found ')'"),
        (
            "prefix eq 'abc",
            "unterminated string starting at position 11 in filter",
        ),
        ("prefix eq \"abc\"", "unexpected character '\"' at position 11 in filter"),
        ("interval_1 eq 1.", "invalid number '1.' at position 15 in filter"),
    ];
    for (filter, message) in cases {
        assert_eq!(filter_error(filter), message, "{filter}");
    }
}

#[test]
fn nesting_is_limited() {
    let ok = format!("{}interval_1 eq 1{}", "(".repeat(32), ")".repeat(32));
    assert!(parse_filter(&RATES, &ok).is_ok());
    let deep = format!("{}interval_1 eq 1{}", "(".repeat(33), ")".repeat(33));
    assert_eq!(
        filter_error(&deep),
        "filter is nested too deeply at position 33 (at most 32 levels of parentheses and 'not')"
    );
    let nots = format!("{}interval_1 eq 1", "not ".repeat(40));
    assert!(filter_error(&nots).starts_with("filter is nested too deeply at position 129"));
    // A huge input is refused before any recursion.
    let huge = "(".repeat(100_000);
    assert_eq!(
        filter_error(&huge),
        "filter must be at most 4096 characters"
    );
}

// ---------------------------------------------------------------- orderby

fn order(orderby: &str) -> Result<String, QueryError> {
    order_on(&RATES, orderby)
}

fn order_on(spec: &ResourceSpec, orderby: &str) -> Result<String, QueryError> {
    let params = ListParams {
        orderby: Some(orderby.to_owned()),
        ..ListParams::default()
    };
    ListQuery::parse(&params, spec).map(|q| q.to_sql(spec, 1).order_sql)
}

fn order_error(spec: &ResourceSpec, orderby: &str) -> String {
    let error = order_on(spec, orderby).unwrap_err();
    assert_eq!(error.parameter, "orderby");
    error.message
}

#[test]
fn orderby_lists_with_default_tiebreaker() {
    assert_eq!(
        order("prefix desc,interval_1").unwrap(),
        "prefix DESC NULLS FIRST, interval_1 ASC NULLS LAST, id ASC"
    );
    assert_eq!(
        order(" type  DESC , price_1 Asc ").unwrap(),
        "rate_type DESC NULLS FIRST, price_1 ASC NULLS LAST, id ASC"
    );
    assert_eq!(order("id desc").unwrap(), "id DESC");
    assert_eq!(
        order("prefix, id").unwrap(),
        "prefix ASC NULLS LAST, id ASC"
    );
    assert_eq!(order_on(&EVENTS, "id").unwrap(), "e.id ASC");
    assert_eq!(
        order_on(&EVENTS, "created desc").unwrap(),
        "e.created_ms DESC NULLS FIRST, e.id ASC"
    );
}

#[test]
fn orderby_keys_are_kept() {
    let params = ListParams {
        orderby: Some("price_n desc".into()),
        ..ListParams::default()
    };
    let query = ListQuery::parse(&params, &RATES).unwrap();
    assert_eq!(
        query.order,
        vec![OrderKey {
            field: RATES.field("price_n").unwrap(),
            direction: Direction::Desc,
        }]
    );
}

#[test]
fn orderby_errors() {
    assert_eq!(
        order_error(&EVENTS, "foo"),
        "unknown field 'foo' in orderby; sortable fields: id, created, active, secret"
    );
    assert_eq!(
        order_error(&EVENTS, "notes desc"),
        "field 'notes' cannot be used in orderby; sortable fields: id, created, active, secret"
    );
    assert_eq!(
        order_error(&RATES, "prefix,prefix desc"),
        "field 'prefix' appears more than once in orderby"
    );
    assert_eq!(
        order_error(&RATES, "prefix up"),
        "expected 'asc' or 'desc' after 'prefix' in orderby, got 'up'"
    );
    assert_eq!(
        order_error(&RATES, "prefix desc interval_1"),
        "unexpected 'interval_1' after 'prefix desc' in orderby; separate fields with commas"
    );
    assert_eq!(
        order_error(&RATES, "prefix,"),
        "orderby item 2 is empty; expected 'field' or 'field desc'"
    );
    assert_eq!(
        order_error(&RATES, ",prefix"),
        "orderby item 1 is empty; expected 'field' or 'field desc'"
    );
}

// ---------------------------------------------------------------- full example

#[test]
fn full_example() {
    let params = ListParams {
        filter: Some(
            "type eq 'INTERNATIONAL' and price_1 le 0.05 and startswith(prefix,'44')".into(),
        ),
        search: Some("mobile".into()),
        orderby: Some("prefix desc,interval_1".into()),
        skip: Some("20".into()),
        top: Some("10".into()),
        cursor: None,
    };
    let query = ListQuery::parse(&params, &RATES).unwrap();
    assert_eq!((query.skip, query.top), (20, 10));
    let parts = query.to_sql(&RATES, 1);
    assert_eq!(
        parts.where_sql,
        r"(rate_type = $1 AND price_1 <= $2 AND LOWER(prefix) LIKE $3 ESCAPE '\' AND (LOWER(prefix) LIKE $4 ESCAPE '\' OR LOWER(description) LIKE $5 ESCAPE '\'))"
    );
    assert_eq!(
        parts.order_sql,
        "prefix DESC NULLS FIRST, interval_1 ASC NULLS LAST, id ASC"
    );
    assert_eq!(
        parts.binds,
        vec![
            text("INTERNATIONAL"),
            int(5_000),
            text("44%"),
            text("%mobile%"),
            text("%mobile%"),
        ]
    );
}

#[test]
fn hand_built_degenerate_queries_still_give_valid_sql() {
    let query = ListQuery {
        filter: Some(Expr::Or(vec![
            Expr::And(vec![]),
            Expr::In {
                field: RATES.field("prefix").unwrap(),
                values: vec![],
            },
        ])),
        ..ListQuery::default()
    };
    assert_eq!(query.to_sql(&RATES, 1).where_sql, "((1 = 1) OR 1 = 0)");
    let search_nothing = ListQuery {
        search: Some("x".into()),
        ..ListQuery::default()
    };
    assert_eq!(search_nothing.to_sql(&PLAIN, 1).where_sql, "(1 = 0)");
}

// ---------------------------------------------------------------- keyset

#[test]
fn keyset_conditions_follow_the_order_with_nulls_largest() {
    let params = ListParams {
        orderby: Some("description desc, price_1".into()),
        ..ListParams::default()
    };
    let query = ListQuery::parse(&params, &RATES).unwrap();
    let keys = query.sort_keys(&RATES);
    assert_eq!(keys.len(), 3);
    assert!(keys[2].unique);
    let (sql, binds) = keyset_sql(
        &keys,
        &[
            Some(SqlValue::Text("b".into())),
            Some(SqlValue::Int(5)),
            Some(SqlValue::Int(9)),
        ],
        3,
    );
    assert_eq!(
        sql,
        "(description < $3 OR (description = $4 AND ((price_1 > $5 OR price_1 IS NULL) \
         OR (price_1 = $6 AND (id > $7)))))"
    );
    assert_eq!(binds.len(), 5);
    // After a NULL: descending, the values; ascending, only more NULLs.
    let (sql, binds) = keyset_sql(&keys, &[None, None, Some(SqlValue::Int(9))], 1);
    assert_eq!(
        sql,
        "(description IS NOT NULL OR (description IS NULL AND ((price_1 IS NULL AND (id > $1)))))"
    );
    assert_eq!(binds, vec![SqlValue::Int(9)]);
    // Reversed, the same keys read backwards.
    let back: Vec<SortKey> = keys.iter().map(|k| k.reversed()).collect();
    assert_eq!(
        order_by_sql(&back),
        "description ASC NULLS LAST, price_1 DESC NULLS FIRST, id DESC"
    );
    assert_eq!(
        query.to_sql(&RATES, 1).order_sql,
        "description DESC NULLS FIRST, price_1 ASC NULLS LAST, id ASC"
    );
}

#[test]
fn a_blank_cursor_is_none_and_a_huge_one_is_refused() {
    let params = ListParams {
        cursor: Some("x".repeat(MAX_CURSOR_CHARS + 1)),
        ..ListParams::default()
    };
    assert_eq!(
        ListQuery::parse(&params, &RATES).unwrap_err().parameter,
        "cursor"
    );
    let params = ListParams {
        cursor: Some(" abc ".into()),
        ..ListParams::default()
    };
    assert_eq!(
        ListQuery::parse(&params, &RATES).unwrap().cursor.as_deref(),
        Some("abc")
    );
}

// ---------------------------------------------------------------- properties

/// Placeholders in `sql`, in order of appearance.
fn placeholders(sql: &str) -> Vec<usize> {
    let mut found = Vec::new();
    let mut rest = sql;
    while let Some(i) = rest.find('$') {
        rest = &rest[i + 1..];
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        found.push(digits.parse().unwrap());
    }
    found
}

/// Fragments that make random inputs reach deep into the parser.
fn token_soup() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "(",
        ")",
        ",",
        " ",
        "'",
        "''",
        "'x'",
        "'LOCAL'",
        "'rt_7'",
        "'%_\\'",
        "and",
        "or",
        "not",
        "eq",
        "ne",
        "gt",
        "ge",
        "lt",
        "le",
        "in",
        "true",
        "false",
        "null",
        "0.05",
        "-3",
        "1.",
        "99999999999999999999",
        "prefix",
        "type",
        "interval_1",
        "price_1",
        "description",
        "id",
        "contains",
        "startswith",
        "endswith",
        "foo",
        "é",
        "$1",
    ]);
    prop::collection::vec(pieces, 0..40).prop_map(|parts| parts.join(" "))
}

/// Filters that are valid for `RATES`, built from the grammar.
fn valid_filter() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        (
            prop::sample::select(vec!["eq", "ne", "gt", "ge", "lt", "le"]),
            any::<i32>()
        )
            .prop_map(|(op, n)| format!("interval_1 {op} {n}")),
        (0u32..100_000_000).prop_map(|n| format!("{}.{:03} lt price_1", n / 1000, n % 1000)),
        prop::sample::select(RATE_TYPES.to_vec()).prop_map(|t| format!("type eq '{t}'")),
        "[a-z'%_ ]{0,6}".prop_map(|t| format!("contains(description,'{}')", t.replace('\'', "''"))),
        Just("description eq null".to_owned()),
        prop::collection::vec(1u8..9, 1..4).prop_map(|ids| {
            let ids: Vec<String> = ids.iter().map(|n| format!("'rt_{n}'")).collect();
            format!("id in ({})", ids.join(","))
        }),
    ];
    leaf.prop_recursive(5, 40, 3, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} and {b}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} or {b}")),
            inner.clone().prop_map(|a| format!("not ({a})")),
            inner.prop_map(|a| format!("({a})")),
        ]
    })
}

proptest! {
    #[test]
    fn valid_filters_parse_and_compile(filter in valid_filter(), first in 1usize..50) {
        let query = parse_filter(&RATES, &filter);
        prop_assert!(query.is_ok(), "{}: {:?}", filter, query);
        if let Ok(query) = query {
            let parts = query.to_sql(&RATES, first);
            let expected: Vec<usize> = (first..first + parts.binds.len()).collect();
            prop_assert_eq!(placeholders(&parts.where_sql), expected);
            prop_assert!(parts.where_sql.starts_with('(') && parts.where_sql.ends_with(')'));
            prop_assert_eq!(parts.where_sql.matches('(').count(), parts.where_sql.matches(')').count());
        }
    }

    #[test]
    fn parser_never_panics_on_arbitrary_text(filter in ".{0,200}", orderby in ".{0,40}",
                                             top in ".{0,6}", skip in ".{0,12}") {
        let params = ListParams {
            filter: Some(filter),
            orderby: Some(orderby),
            top: Some(top),
            skip: Some(skip),
            search: None,
            cursor: None,
        };
        let _ = ListQuery::parse(&params, &RATES);
    }

    #[test]
    fn parser_never_panics_on_token_soup(filter in token_soup()) {
        let _ = parse_filter(&RATES, &filter);
        let _ = parse_filter(&RATES, &filter.replace(' ', ""));
    }

    #[test]
    fn placeholders_are_consecutive_and_match_binds(filter in token_soup(),
                                                    search in "[a-z%_]{0,5}",
                                                    first in 1usize..50) {
        let params = ListParams {
            filter: Some(filter),
            search: Some(search),
            ..ListParams::default()
        };
        if let Ok(query) = ListQuery::parse(&params, &RATES) {
            let parts = query.to_sql(&RATES, first);
            let expected: Vec<usize> = (first..first + parts.binds.len()).collect();
            prop_assert_eq!(placeholders(&parts.where_sql), expected);
        }
    }
}
