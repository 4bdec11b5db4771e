-- examples/webhook-v3: the API V3 webhook receiver, started by its own run script in a real nginx, gets
-- the emulator's signed deliveries: the VERIFY of a new webhook (/_emulator/v3/webhooks), VEHICLE_STATE and
-- VEHICLE_ERROR on demand (/_emulator/v3/events) and after a subscription and a V3 command. Tampered
-- deliveries are sent to it directly, through the SDK's transport.
local smartcar = require "smartcar"
local core = require "smartcar.core"
local socket = require "socket"
local H = require "helper"
local shell = require "support.shell"

local read = shell.read

describe("examples/webhook-v3", function()
  local origin, prefix, created, vehicleId, userId

  setup(function()
    assert(io.open("build/luajit/smartcar/core.so"), "build the SDK for nginx first: make LUA=luajit"):close()
    H.reset()
    origin, prefix = shell.start_example("webhook-v3", function() return "SMARTCAR_MANAGEMENT_TOKEN=" .. H.AMT end,
      "the example")
    -- a simulated-mode user with the emulator's three vehicles, connected to the demo app
    local t = H.token("driver@example.com", nil, "simulated")
    vehicleId, userId = t.vehicles[1], t.user_id
    local status
    created, status = H.admin("POST", "/_emulator/v3/webhooks", { name = "webhook-v3 example",
      callbackUri = origin .. "/webhook" })
    assert.are.equal(200, status)
  end)

  teardown(function()
    shell.stop_example("webhook-v3", prefix)
    H.reset()
  end)

  local function app_log() return read(prefix .. "/logs/error.log") or "" end

  local function received()
    local res = assert(H.http("GET", origin .. "/events"))
    assert.are.equal(200, res.status, res.body)
    return core.decode(res.body)
  end

  local function event(id)
    for _, e in ipairs(received().events) do if e.id == id then return e end end
  end

  -- Wait (at most 5 s) for an event the emulator sends from a timer.
  local function await(match)
    for _ = 1, 50 do
      for _, e in ipairs(received().events) do if match(e) then return e end end
      socket.sleep(0.1)
    end
    error("no such event arrived: " .. core.encode(received()) .. app_log())
  end

  local function deliver(body)
    body.webhookId, body.vehicleId = created.webhook.id, vehicleId
    local out, status = H.admin("POST", "/_emulator/v3/events", body)
    assert.are.equal(200, status)
    assert.are.equal(1, #out.deliveries)
    return out.deliveries[1]
  end

  local function post(body, signature)
    local headers = { ["content-type"] = "application/json", ["sc-signature"] = signature }
    return assert(H.http("POST", origin .. "/webhook", headers, body))
  end

  it("answers the VERIFY challenge of a new webhook: the emulator marks it verified", function()
    local verify = created.verify
    assert.are.equal(200, verify.status, tostring(verify.response) .. app_log())
    assert.is_true(verify.verified)
    assert.is_true(created.webhook.meta.verified)
    assert.are.equal(smartcar.webhookChallenge(H.AMT, verify.challenge), (verify.response:gsub("%s+$", "")))
    local e = assert(event(verify.eventId))
    assert.are.equal("VERIFY", e.type)
    assert.are.equal(created.webhook.id, e.webhookId)
    -- and the Management API says so too
    local app = H.application()
    assert.is_true(assert(app:getWebhook(created.webhook.id)).verified)
  end)

  it("keeps a VEHICLE_STATE delivery: the user, the vehicle and the webhook's data signals", function()
    local d = deliver { eventType = "VEHICLE_STATE" }
    assert.is_true(d.ok, tostring(d.response) .. app_log())
    assert.are.same({ received = "VEHICLE_STATE", stored = true }, core.decode(d.response))
    local e = assert(event(d.eventId), "not received: " .. d.eventId)
    assert.are.equal("VEHICLE_STATE", e.type)
    assert.are.equal(vehicleId, e.vehicleId)
    assert.are.equal(userId, e.userId)
    assert.are.equal(d.deliveryId, e.deliveryId)
    assert.are.equal(created.webhook.id, e.webhookId)
    assert.are.same({ "FIRST_DELIVERY" }, e.triggers)
    assert.are.equal("TESLA", e.vehicle.make)
    assert.is_boolean(e.signals["closure-islocked"])
    assert.is_number(e.signals["odometer-traveleddistance"])
    assert.matches("webhook VEHICLE_STATE vehicle " .. vehicleId, app_log(), 1, true)
  end)

  it("keeps a VEHICLE_ERROR delivery with its errors", function()
    local d = deliver { eventType = "VEHICLE_ERROR", error = { type = "VEHICLE_STATE", code = "ASLEEP" } }
    assert.is_true(d.ok, tostring(d.response) .. app_log())
    local e = assert(event(d.eventId), "not received: " .. d.eventId)
    assert.are.equal("VEHICLE_ERROR", e.type)
    assert.are.equal(vehicleId, e.vehicleId)
    assert.are.equal(userId, e.userId)
    assert.are.equal(1, #e.errors)
    assert.are.equal("VEHICLE_STATE", e.errors[1].type)
    assert.are.equal("ASLEEP", e.errors[1].code)
    assert.are.equal("ERROR", e.errors[1].state)
    assert.matches("webhook VEHICLE_ERROR VEHICLE_STATE:ASLEEP (ERROR) vehicle " .. vehicleId, app_log(), 1, true)
  end)

  it("gets the FIRST_DELIVERY of a subscription, then a VEHICLE_STATE when a V3 command changes a trigger", function()
    local app = H.application()
    local seen = {}
    for _, e in ipairs(received().events) do seen[e.id] = true end
    assert(app:subscribe(created.webhook.id, vehicleId, userId))
    local first = await(function(e) return not seen[e.id] and e.type == "VEHICLE_STATE" end)
    assert.are.same({ "FIRST_DELIVERY" }, first.triggers)
    assert.are.equal(vehicleId, first.vehicleId)
    assert.are.equal(userId, first.userId)
    local car = app:vehicle(vehicleId, userId)
    local locked = assert(car:signal("closure-islocked")).value
    assert(locked and car:unlock() or car:lock())
    local changed = await(function(e) return not seen[e.id] and e.triggers and e.triggers[1] == "closure-islocked" end)
    assert.are.equal(not locked, changed.signals["closure-islocked"])
  end)

  it("acknowledges a retried delivery (the same eventId) without keeping it twice", function()
    local d = deliver { eventType = "VEHICLE_STATE" }
    local before = #received().events
    local res = post(d.body, d.signature)
    assert.are.equal(200, res.status, res.body)
    assert.are.same({ received = "VEHICLE_STATE", stored = false }, core.decode(res.body))
    assert.are.equal(before, #received().events)
  end)

  it("rejects with 401 a delivery with one byte changed, a wrong signature, a wrong AMT or no signature", function()
    local d = deliver { eventType = "VEHICLE_STATE" }
    local body, signature = d.body, d.signature
    local before = received()
    -- one byte of the vehicle id changed: another vehicle, same signature
    local at = assert(body:find('"vehicleId":"', 1, true)) + #'"vehicleId":"'
    local changed = body:sub(1, at - 1) .. (body:sub(at, at) == "a" and "b" or "a") .. body:sub(at + 1)
    assert.are.equal(#body, #changed)
    assert.are_not.equal(body, changed)
    local last = signature:sub(-1)
    local cases = {
      { "one byte changed", changed, signature },
      { "a wrong signature", body, signature:sub(1, -2) .. (last == "0" and "1" or "0") },
      { "signed with another AMT", body, smartcar.hashChallenge("not-the-amt", body) },
      { "no signature", body, nil },
    }
    for _, case in ipairs(cases) do
      local res = post(case[2], case[3])
      assert.are.equal(401, res.status, case[1] .. ": " .. res.body)
      assert.are.same({ error = "INVALID_SIGNATURE" }, core.decode(res.body), case[1])
    end
    local after = received()
    assert.are.equal(#before.events, #after.events)
    assert.are.equal(before.rejected + #cases, after.rejected)
    assert.matches("webhook rejected: INVALID_SIGNATURE", app_log(), 1, true)
    -- the untouched delivery was (and is) good
    assert.are.equal(200, post(body, signature).status)
  end)

  it("takes a signed delivery past nginx's body buffer (read from nginx's file), and an empty POST is a 401",
    function()
    local d = deliver { eventType = "VEHICLE_STATE" }
    local big = core.decode(d.body)
    big.padding = ("x"):rep(64 * 1024) -- past client_body_buffer_size: nginx keeps the body in a file
    local body = core.encode(big)
    local res = post(body, smartcar.hashChallenge(H.AMT, body))
    assert.are.equal(200, res.status, res.body)
    res = post("", nil)
    assert.are.equal(401, res.status, res.body)
    assert.are.same({ error = "INVALID_SIGNATURE" }, core.decode(res.body))
  end)

  it("answers a signed body that is not a JSON object with 400, and only POST on /webhook", function()
    local res = post("[1,2]", smartcar.hashChallenge(H.AMT, "[1,2]"))
    assert.are.equal(400, res.status)
    assert.are.same({ error = "INVALID_PAYLOAD" }, core.decode(res.body))
    assert.are.equal(405, assert(H.http("GET", origin .. "/webhook")).status)
  end)

  it("is documented with its nginx.conf as it is", function()
    assert.are.equal(read("examples/webhook-v3/nginx.conf"),
      read("examples/webhook-v3/README.md"):match("\n```nginx\n(.-)```"))
  end)
end)
