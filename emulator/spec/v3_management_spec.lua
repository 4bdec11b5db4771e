-- Management API v3 (webhooks, subscriptions) and V3 deliveries: VERIFY, FIRST_DELIVERY, VEHICLE_STATE on a
-- trigger change (through v3 or v2), VEHICLE_ERROR, retries; SC-Signature checked here with HMAC-SHA256.
local S = require "spec.support"
local V = require "spec.v3_support"

local function echo(amt) return S.origin .. "/_emulator/echo-webhook?amt=" .. S.escape(amt) end

local function assert_signed(d, amt)
  assert.are.equal(V.hmac_hex(amt or S.AMT, d.body), d.signature)
  return S.decode(d.body)
end

describe("V3 management and deliveries", function()
  local token, t
  before_each(function()
    S.reset()
    S.admin("DELETE", "/_emulator/echo-webhook")
    token = V.app_token()
    t = S.token("hooks3@example.com", nil, { mode = "simulated" })
  end)
  after_each(function() S.reset() end)

  local function subscribe(wid, vid, uid)
    return V.call("POST", "/v3/subscriptions", token, nil, { data = { type = "subscription", attributes = {
      webhookId = wid or S.WEBHOOK_ID, userId = uid or t.user_id, vehicleId = vid or t.vehicles[1] } } })
  end

  it("lists and gets webhooks (the seeded default one)", function()
    local res = V.call("GET", "/v3/webhooks", token)
    assert.are.equal(200, res.status)
    assert.are.equal(1, res.json.meta.totalCount)
    assert.are.equal(50, res.json.meta.pageSize)
    local w = res.json.data[1]
    assert.are.equal(S.WEBHOOK_ID, w.id)
    assert.are.equal("webhook", w.type)
    assert.are.equal("Emulator Webhook", w.attributes.name)
    assert.is_true(w.attributes.isEnabled)
    assert.is_false(w.attributes.autoSubscribe)
    assert.are.equal(S.null, w.attributes.errorCallbackUri)
    assert.are.same({ group = "TractionBattery", name = "StateOfCharge", code = "tractionbattery-stateofcharge" },
      w.attributes.triggers[1])
    assert.are.equal("/webhooks/" .. S.WEBHOOK_ID, w.links.self)
    assert.are.same(w, V.call("GET", "/v3/webhooks/" .. S.WEBHOOK_ID, token).json.data)
    V.assert_error(V.call("GET", "/v3/webhooks/nope", token), 404, "RESOURCE_NOT_FOUND", "WEBHOOK_NOT_FOUND")
  end)

  it("creates a webhook (admin) with a signed VERIFY challenge; filters and pages webhooks", function()
    local r = S.admin_ok("POST", "/_emulator/v3/webhooks", { name = "Locks", callbackUri = echo(S.AMT),
      triggers = { "closure-islocked" }, data = { "closure-islocked", "odometer-traveleddistance" } })
    assert.is_true(r.verify.verified)
    assert.are.equal(200, r.verify.status)
    local p = assert_signed(r.verify)
    assert.are.equal("VERIFY", p.eventType)
    assert.are.equal(r.verify.challenge, p.data.challenge)
    assert.are.equal("4.0", p.meta.version)
    assert.are.equal(r.webhook.id, p.meta.webhookId)
    assert.are.equal("Locks", p.meta.webhookName)
    assert.is_nil(p.vehicleId)
    local bad = S.admin_ok("POST", "/_emulator/v3/webhooks", { name = "Wrong", callbackUri = echo("other") })
    assert.is_false(bad.verify.verified)
    assert.is_false(bad.webhook.meta.verified)
    local res = V.call("GET", "/v3/webhooks?filter%5Bname%5D=Locks", token).json
    assert.are.equal(1, res.meta.totalCount)
    assert.are.equal(r.webhook.id, res.data[1].id)
    res = V.call("GET", "/v3/webhooks?filter[callbackUri]=ECHO-WEBHOOK&page[size]=2&page[number]=2", token).json
    assert.are.equal(3, res.meta.totalCount)
    assert.are.equal(1, #res.data)
    assert.are_not.equal(S.null, res.links.prev)
    assert.are.equal(S.null, res.links.next)
  end)

  it("subscribes (202, FIRST_DELIVERY signed), refuses duplicates (409), lists, gets and deletes", function()
    local res = subscribe()
    assert.are.equal(202, res.status, res.body)
    assert.are.same({ meta = { message = "subscription creation in progress" } }, res.json)
    V.assert_error(subscribe(), 409, "VALIDATION", "ALREADY_EXISTS")
    local list = V.deliveries_until("?eventType=VEHICLE_STATE", function(l) return #l >= 1 end)
    assert.are.equal(1, #list)
    local p = assert_signed(list[1])
    assert.are.equal("VEHICLE_STATE", p.eventType)
    assert.are.equal(t.vehicles[1], p.vehicleId)
    assert.are.same({ { type = "FIRST_DELIVERY" } }, p.triggers)
    assert.are.equal(t.user_id, p.data.user.id)
    assert.are.equal("TESLA", p.data.vehicle.make)
    assert.are.equal(4, #p.data.signals)
    assert.are.equal(4, p.meta.signalCount)
    assert.are.equal("TEST", p.meta.mode)
    assert.are.equal("4.0", p.meta.version)
    assert.is_number(p.meta.deliveredAt)
    assert.are.same({ value = "SUCCESS" }, p.data.signals[1].status)
    assert.is_number(p.data.signals[1].meta.retrievedAt)
    local got = S.admin("GET", "/_emulator/echo-webhook").received
    assert.is_true(got[#got].signatureValid)
    -- list with paging and filters
    subscribe(nil, t.vehicles[2])
    subscribe(nil, t.vehicles[3])
    local page = V.call("GET", "/v3/subscriptions?page%5Bsize%5D=2", token).json
    assert.are.equal(3, page.meta.totalCount)
    assert.are.equal(2, #page.data)
    assert.are_not.equal(S.null, page.links.next)
    local sub = page.data[1]
    assert.are.equal("subscription", sub.type)
    assert.are.equal(t.vehicles[3], sub.relationships.vehicle.data.id)
    assert.are.equal("user", sub.relationships.user.data.type)
    assert.are.equal(S.WEBHOOK_ID, sub.relationships.webhook.data.id)
    assert.are.equal("FORD", sub.attributes.vehicle.make)
    local one = V.call("GET", "/v3/subscriptions?filter%5BvehicleId%5D=" .. t.vehicles[1], token).json
    assert.are.equal(1, one.meta.totalCount)
    local id = one.data[1].id
    assert.are.same(one.data[1], V.call("GET", "/v3/subscriptions/" .. id, token).json.data)
    assert.are.equal(204, V.call("DELETE", "/v3/subscriptions/" .. id, token).status)
    V.assert_error(V.call("GET", "/v3/subscriptions/" .. id, token), 404, "RESOURCE_NOT_FOUND",
      "SUBSCRIPTION_NOT_FOUND")
    assert.are.equal(2, V.call("GET", "/v3/subscriptions", token).json.meta.totalCount)
  end)

  it("validates subscription bodies (400 per missing field, 404 unknown webhook or connection)", function()
    local res = V.call("POST", "/v3/subscriptions", token, nil, { data = { attributes = {} } })
    assert.are.equal(400, res.status)
    assert.are.equal(3, #res.json.errors)
    assert.are.equal("MISSING_PARAMETER", res.json.errors[1].code)
    V.assert_error(subscribe("nope"), 404, "RESOURCE_NOT_FOUND", "WEBHOOK_NOT_FOUND")
    V.assert_error(subscribe(nil, nil, "00000000-0000-4000-8000-000000000000"), 404, "RESOURCE_NOT_FOUND",
      "CONNECTION_NOT_FOUND")
  end)

  it("delivers VEHICLE_STATE when a trigger signal changes, through v3 or v2 commands", function()
    assert.are.equal(202, subscribe().status)
    V.deliveries_until("", function(l) return #l >= 1 end)
    S.admin_ok("DELETE", "/_emulator/v3/deliveries")
    local res = V.call("POST", "/v3/vehicles/" .. t.vehicles[1] .. "/commands/security/unlock", token, t.user_id)
    assert.are.equal(200, res.status)
    local list = V.deliveries_until("", function(l) return #l >= 1 end)
    assert.are.equal(1, #list)
    local p = assert_signed(list[1])
    assert.are.same({ { type = "SIGNAL_UPDATED", signal = { group = "Closure", name = "IsLocked",
      code = "closure-islocked" } } }, p.triggers)
    for _, s in ipairs(p.data.signals) do
      if s.code == "closure-islocked" then assert.is_false(s.body.value) end
    end
    -- the same lock through v2
    assert.are.equal(200, S.post("/v2.0/vehicles/" .. t.vehicles[1] .. "/security", { action = "LOCK" },
      t.access_token).status)
    list = V.deliveries_until("", function(l) return #l >= 2 end)
    assert.are.equal(2, #list)
    assert.are.equal("closure-islocked", assert_signed(list[2]).triggers[1].signal.code)
    -- a value set by the admin call (state of charge)
    S.admin_ok("POST", "/_emulator/v3/vehicles/" .. t.vehicles[1], { batteryPercent = 0.9 })
    list = V.deliveries_until("", function(l) return #l >= 3 end)
    assert.are.equal("tractionbattery-stateofcharge", assert_signed(list[3]).triggers[1].signal.code)
    -- no change, no delivery
    S.admin_ok("POST", "/_emulator/v3/vehicles/" .. t.vehicles[1], { batteryPercent = 0.9 })
    assert.are.equal(3, #S.admin("GET", "/_emulator/v3/deliveries").deliveries)
  end)

  it("triggers VERIFY, VEHICLE_STATE and VEHICLE_ERROR by admin call (errors to errorCallbackUri)", function()
    local w = S.admin_ok("POST", "/_emulator/v3/webhooks", { name = "Errors", callbackUri = echo(S.AMT),
      errorCallbackUri = echo(S.AMT) .. "&errors=1" }).webhook
    local v = S.admin_ok("POST", "/_emulator/v3/webhooks/" .. w.id .. "/verify")
    assert.is_true(v.verified)
    local r = S.admin_ok("POST", "/_emulator/v3/events", { eventType = "VEHICLE_ERROR", webhookId = w.id,
      vehicleId = t.vehicles[1], error = { type = "VEHICLE_STATE", code = "ASLEEP" } })
    local d = r.deliveries[1]
    assert.are.equal(200, d.status)
    assert.truthy(d.url:find("errors=1", 1, true))
    local p = assert_signed(d)
    assert.are.equal("VEHICLE_ERROR", p.eventType)
    assert.are.equal(t.user_id, p.data.user.id)
    local e = p.data.errors[1]
    assert.are.equal("VEHICLE_STATE", e.type)
    assert.are.equal("ASLEEP", e.code)
    assert.are.equal("ERROR", e.state)
    assert.is_string(e.description)
    assert.matches("^https://smartcar.com/docs/errors/api%-errors/", e.docURL)
    assert.are.equal("location-preciselocation", e.signals[1].code)
    r = S.admin_ok("POST", "/_emulator/v3/events", { eventType = "VEHICLE_ERROR", webhookId = w.id,
      vehicleId = t.vehicles[1], state = "RESOLVED" })
    assert.are.equal("RESOLVED", assert_signed(r.deliveries[1]).data.errors[1].state)
    r = S.admin_ok("POST", "/_emulator/v3/events", { eventType = "VEHICLE_STATE", webhookId = w.id,
      vehicleId = t.vehicles[1], signals = { "odometer-traveleddistance" } })
    p = assert_signed(r.deliveries[1])
    assert.are.equal("odometer-traveleddistance", p.triggers[1].signal.code)
    -- no webhookId: every subscription of the vehicle
    assert.are.equal(202, subscribe().status)
    r = S.admin_ok("POST", "/_emulator/v3/events", { vehicleId = t.vehicles[1] })
    assert.are.equal(1, #r.deliveries)
    assert.are.equal(S.WEBHOOK_ID, r.deliveries[1].webhookId)
  end)

  it("retries a failing delivery with the same eventId and a new deliveryId (scaled back-off)", function()
    S.admin_ok("POST", "/_emulator/v3/config", { retryScale = 0.002 })
    local w = S.admin_ok("POST", "/_emulator/v3/webhooks", { name = "Down", callbackUri = "http://127.0.0.1:9/cb" })
      .webhook
    assert.is_false(w.meta.verified)
    S.admin_ok("POST", "/_emulator/v3/events", { webhookId = w.id, vehicleId = t.vehicles[1] })
    local list = V.deliveries_until("?eventType=VEHICLE_STATE", function(l) return #l >= 4 end)
    assert.are.equal(4, #list)
    local ids = {}
    for i, d in ipairs(list) do
      assert.are.equal(list[1].eventId, d.eventId)
      assert.are.equal(i, d.attempt)
      assert.is_false(d.ok)
      assert.is_nil(ids[d.deliveryId])
      ids[d.deliveryId] = true
      assert_signed(d)
    end
    require("socket").sleep(0.4)
    assert.are.equal(4, #S.admin("GET", "/_emulator/v3/deliveries?eventType=VEHICLE_STATE").deliveries)
  end)

  it("drops a connection's subscriptions when the connection is deleted", function()
    assert.are.equal(202, subscribe().status)
    local c = V.call("GET", "/v3/connections?filter[vehicle.mode]=simulated&filter[vehicleId]=" .. t.vehicles[1],
      token).json.data[1]
    assert.are.equal(204, V.call("DELETE", "/v3/connections/" .. c.id, token).status)
    assert.are.equal(0, V.call("GET", "/v3/subscriptions", token).json.meta.totalCount)
  end)
end)
