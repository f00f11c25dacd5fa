#!/usr/bin/env python3
"""Drives Ratedeck's XML-RPC endpoint with Python's own xmlrpc.client.

Usage: xmlrpc_client.py <base-url> <username@domain> <password>

Exercises every method, their faults, and that XML-RPC and the REST API see
the same rates. Exits 0 when everything behaved, 1 (with the reason) if not.
"""

import datetime
import json
import sys
import urllib.error
import urllib.parse
import urllib.request
import xmlrpc.client

PARSE_ERROR = -32700
UNKNOWN_METHOD = -32601
INVALID_PARAMS = -32602
UNAUTHORIZED = 401
NOT_FOUND = 404
CONFLICT = 409


def proxy(base, user, password):
    netloc = urllib.parse.urlsplit(base).netloc
    quoted = "%s:%s@%s" % (
        urllib.parse.quote(user, safe=""),
        urllib.parse.quote(password, safe=""),
        netloc,
    )
    url = base.replace(netloc, quoted, 1) + "/xmlapi"
    return xmlrpc.client.ServerProxy(url, allow_none=True)


def fault(call, code, *words):
    """Runs call, which must fail with faultCode code and a faultString
    holding every word."""
    try:
        answer = call()
    except xmlrpc.client.Fault as f:
        assert f.faultCode == code, "faultCode %r, expected %r (%s)" % (
            f.faultCode,
            code,
            f.faultString,
        )
        for word in words:
            assert word in f.faultString, "%r not in %r" % (word, f.faultString)
        return f.faultString
    raise AssertionError("expected fault %r, got %r" % (code, answer))


def rest(base, method, path, token=None, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(request) as response:
            text = response.read().decode()
            return response.status, (json.loads(text) if text else None)
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read().decode() or "null")


def rate(tariff, prefix, **more):
    args = {
        "i_tariff": tariff,
        "prefix": prefix,
        "interval_1": 60,
        "interval_n": 6,
        "price_1": 0.06,
        "price_n": 0.03,
    }
    args.update(more)
    return args


def main():
    base, user, password = sys.argv[1], sys.argv[2], sys.argv[3]
    rpc = proxy(base, user, password)

    # listTariffs: the tenant starts with its default tariff.
    answer = rpc.listTariffs({})
    assert answer["result"] == "OK", answer
    assert len(answer["list"]) == 1, answer
    default = answer["list"][0]
    assert default["is_default"] is True and default["iso_4217"] == "USD", default
    default_id = default["i_tariff"]
    assert isinstance(default_id, int)

    # addTariff / getTariffInfo / updateTariff, ids as int or string.
    added = rpc.addTariff(
        {
            "name": "Retail",
            "iso_4217": "EUR",
            "free_seconds": 5,
            "connect_fee": 0.1,
            "post_call_surcharge": "0.02",
            "grace_period": 3,
        }
    )
    assert added["result"] == "OK", added
    tariff = added["i_tariff"]
    assert isinstance(tariff, int) and 0 < tariff < 2**31, added
    info = rpc.getTariffInfo({"i_tariff": str(tariff)})["tariff_info"]
    assert info["name"] == "Retail" and info["iso_4217"] == "EUR", info
    assert info["connect_fee"] == 0.1 and info["post_call_surcharge"] == 0.02, info
    assert info["free_seconds"] == 5 and info["grace_period"] == 3, info
    assert info["is_default"] is False, info
    updated = rpc.updateTariff({"i_tariff": str(tariff), "name": "Retail EU"})
    assert updated == {"result": "OK", "i_tariff": tariff}, updated
    assert rpc.getTariffInfo({"i_tariff": tariff})["tariff_info"]["name"] == "Retail EU"
    usd = rpc.addTariff({"name": "Plain"})["i_tariff"]
    assert rpc.getTariffInfo({"i_tariff": usd})["tariff_info"]["iso_4217"] == "USD"
    names = sorted(t["name"] for t in rpc.listTariffs({})["list"])
    assert names == ["Default", "Plain", "Retail EU"], names

    # addTariffRate with both date forms, exact money, the tariff's currency.
    activation = xmlrpc.client.DateTime(datetime.datetime(2017, 5, 29, 9, 57, 29))
    added = rpc.addTariffRate(
        rate(
            str(tariff),
            "4420",
            price_1="0.12345",
            iso_4217="EUR",
            activation_date=activation,
            expiration_date="13:57:29.000 GMT Mon May 29 2017",
            forbidden=False,
            grace_period_enable=True,
        )
    )
    assert added["result"] == "OK" and added["i_tariff"] == tariff, added
    first = added["i_tariff_rate"]
    assert isinstance(first, int) and 0 < first < 2**31
    second = rpc.addTariffRate(rate(tariff, "4421"))["i_tariff_rate"]
    third = rpc.addTariffRate(rate(tariff, "4422", forbidden=True))["i_tariff_rate"]
    listed = rpc.listTariffRates({"i_tariff": tariff})
    assert listed["total"] == 3, listed
    by_id = {r["i_tariff_rate"]: r for r in listed["list"]}
    one = by_id[first]
    assert one["prefix"] == "4420" and one["price_1"] == 0.12345, one
    assert str(one["activation_date"]) == "20170529T09:57:29", one
    assert str(one["expiration_date"]) == "20170529T13:57:29", one
    assert one["grace_period_enable"] is True and one["forbidden"] is False, one
    assert one["grace_period"] == 3 and one["free_seconds"] == 5, one
    assert one["connect_fee"] == 0.1 and one["post_call_surcharge"] == 0.02, one
    assert by_id[second]["expiration_date"] is None, by_id[second]
    assert by_id[third]["forbidden"] is True
    page1 = rpc.listTariffRates({"i_tariff": tariff, "offset": 0, "limit": 2})
    page2 = rpc.listTariffRates({"i_tariff": tariff, "offset": 2, "limit": 2})
    assert [r["i_tariff_rate"] for r in page1["list"]] == [first, second], page1
    assert [r["i_tariff_rate"] for r in page2["list"]] == [third], page2
    assert page2["total"] == 3

    # updateTariffRate and deleteTariffRate.
    changed = rpc.updateTariffRate(
        {"i_tariff_rate": str(second), "price_1": 0.07, "forbidden": True,
         "expiration_date": xmlrpc.client.DateTime("20300101T00:00:00")}
    )
    assert changed == {"result": "OK", "i_tariff": tariff, "i_tariff_rate": second}, changed
    after = {r["i_tariff_rate"]: r for r in rpc.listTariffRates({"i_tariff": tariff})["list"]}
    assert after[second]["price_1"] == 0.07 and after[second]["forbidden"] is True
    assert str(after[second]["expiration_date"]) == "20300101T00:00:00"
    rpc.updateTariffRate({"i_tariff_rate": second, "expiration_date": None})
    after = {r["i_tariff_rate"]: r for r in rpc.listTariffRates({"i_tariff": tariff})["list"]}
    assert after[second]["expiration_date"] is None, after[second]
    assert rpc.deleteTariffRate({"i_tariff_rate": third})["result"] == "OK"
    assert rpc.listTariffRates({"i_tariff": tariff})["total"] == 2
    fault(lambda: rpc.deleteTariffRate({"i_tariff_rate": third}), NOT_FOUND, "call rate")

    # addBillingPlan / listBillingPlans / deleteBillingPlan, and the tariff in use.
    plan = rpc.addBillingPlan(
        {"prefix": "4420", "i_tariff": str(usd), "description": "London",
         "i_billing_plan_suspend_mode": 1, "billing_cycle": 1, "i_billing_day": 3,
         "round_up": True, "prepaid": False}
    )
    assert plan["result"] == "OK" and plan["i_tariff"] == usd, plan
    plan_id = plan["i_billing_plan"]
    plans = rpc.listBillingPlans({})["list"]
    assert len(plans) == 1, plans
    p = plans[0]
    assert p["i_billing_plan"] == plan_id and p["prefix"] == "4420", p
    assert p["iso_4217"] == "USD" and p["billing_cycle"] == 1 and p["i_billing_day"] == 3, p
    assert p["round_up"] is True and p["prepaid"] is False and p["description"] == "London", p
    assert p["i_billing_plan_suspend_mode"] == 1, p
    fault(lambda: rpc.deleteTariff({"i_tariff": usd}), CONFLICT, "TARIFF_IN_USE", "4420")
    fault(lambda: rpc.addBillingPlan({"prefix": "4420", "i_tariff": usd}), INVALID_PARAMS, "prefix")
    fault(lambda: rpc.addBillingPlan({"prefix": "49", "i_tariff": usd, "billing_cycle": 7}),
          INVALID_PARAMS, "billing_cycle")
    fault(lambda: rpc.addBillingPlan({"prefix": "49", "i_tariff": 999999}), INVALID_PARAMS, "i_tariff")
    assert rpc.deleteBillingPlan({"i_billing_plan": plan_id})["result"] == "OK"
    assert rpc.listBillingPlans({})["list"] == []
    fault(lambda: rpc.deleteBillingPlan({"i_billing_plan": plan_id}), NOT_FOUND, "billing plan")
    assert rpc.deleteTariff({"i_tariff": usd})["result"] == "OK"
    fault(lambda: rpc.getTariffInfo({"i_tariff": usd}), NOT_FOUND, "tariff")
    fault(lambda: rpc.deleteTariff({"i_tariff": default_id}), CONFLICT, "DEFAULT_TARIFF")

    # Faults say what is wrong.
    fault(lambda: rpc.noSuchMethod({}), UNKNOWN_METHOD, "noSuchMethod")
    fault(lambda: rpc.addTariff({}), INVALID_PARAMS, "name", "required")
    fault(lambda: rpc.addTariff({"name": "X", "iso_4217": "XYZ"}), INVALID_PARAMS, "iso_4217")
    fault(lambda: rpc.addTariff({"name": "X", "colour": "red"}), INVALID_PARAMS, "colour")
    fault(lambda: rpc.addTariff("just a string"), INVALID_PARAMS, "struct")
    fault(lambda: rpc.addTariffRate(rate(tariff, "1", interval_1="abc")), INVALID_PARAMS, "interval_1")
    fault(lambda: rpc.addTariffRate(rate(tariff, "1", price_1="0.123456")), INVALID_PARAMS, "price_1")
    fault(lambda: rpc.addTariffRate({"i_tariff": tariff}), INVALID_PARAMS, "prefix", "required")
    fault(lambda: rpc.addTariffRate(rate(999999, "1")), NOT_FOUND, "tariff")
    fault(lambda: rpc.addTariffRate(rate(tariff, "1", iso_4217="USD")), INVALID_PARAMS, "iso_4217", "EUR")
    fault(lambda: rpc.addTariffRate(rate(tariff, "1", activation_date="yesterday")),
          INVALID_PARAMS, "activation_date")
    fault(lambda: rpc.addTariffRate(rate(tariff, "1", activation_date="09:57:29.000 GMT Tue May 29 2017")),
          INVALID_PARAMS, "activation_date")
    fault(lambda: rpc.addTariffRate(rate("abc", "1")), INVALID_PARAMS, "i_tariff")
    fault(lambda: rpc.addTariffRate(rate(tariff, "1", activation_date="09:57:29.000 GMT Mon May 29 2017",
                                         expiration_date="09:57:29.000 GMT Mon May 29 2017")),
          INVALID_PARAMS, "expiration_date")
    fault(lambda: rpc.addTariffRate(rate(tariff, "4420", activation_date=activation)),
          INVALID_PARAMS, "prefix", "already exists")
    fault(lambda: rpc.getTariffInfo({}), INVALID_PARAMS, "i_tariff", "required")

    # A malformed body is a fault too, not an error page.
    request = urllib.request.Request(
        proxy_url(base), data=b"<methodCall><methodName>listTariffs</methodName", method="POST"
    )
    request.add_header("Content-Type", "text/xml")
    with urllib.request.urlopen(request) as response:
        assert response.status == 200
        body = response.read()
    try:
        xmlrpc.client.loads(body)
        raise AssertionError("a malformed call was answered")
    except xmlrpc.client.Fault as f:
        assert f.faultCode == PARSE_ERROR, f

    # Wrong credentials are a fault.
    fault(lambda: proxy(base, user, "wrong-password").listTariffs({}), UNAUTHORIZED)

    # The REST API and XML-RPC see the same rates.
    name, domain = user.rsplit("@", 1)
    status, login = rest(base, "POST", "/api/login",
                         body={"username": name, "password": password, "domain": domain})
    assert status == 200, login
    token = login["access_token"]
    rpc.addTariffRate(rate(default_id, "331", price_1="0.5", activation_date=activation))
    status, found = rest(base, "GET", "/api/call_rates?filter=" + urllib.parse.quote("prefix eq '331'"), token)
    assert status == 200 and found["count"] == 1, found
    assert found["items"][0]["price_1"] == 0.5, found
    status, created = rest(base, "POST", "/api/call_rates", token, {
        "prefix": "332", "type": "NATIONAL", "free_seconds": 0, "grace_period": 0,
        "interval_1": 1, "interval_n": 1, "connect_fee": 0, "postcall_surcharge": 0,
        "price_1": 0.01, "price_n": 0.01})
    assert status == 200, created
    prefixes = [r["prefix"] for r in rpc.listTariffRates({"i_tariff": default_id})["list"]]
    assert prefixes == ["331", "332"], prefixes
    status, tariffs = rest(base, "GET", "/api/tariffs?orderby=name", token)
    assert [t["name"] for t in tariffs["items"]] == ["Default", "Retail EU"], tariffs

    # An API token works as the password.
    status, api_token = rest(base, "POST", "/api/tokens", token, {"name": "softswitch"})
    assert status == 200, api_token
    machine = proxy(base, "softswitch", api_token["token"])
    assert len(machine.listTariffs({})["list"]) == 2

    print("xmlrpc_client: every method and fault behaved")


def proxy_url(base):
    return base + "/xmlapi"


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        print("xmlrpc_client: FAILED: %s" % e, file=sys.stderr)
        sys.exit(1)
