local S = require "spec.support"

describe("webhooks out", function()
  setup(function() S.reset() end)
  before_each(function() S.admin("DELETE", "/_emulator/echo-webhook") end)

  local function echo(amt) return S.origin .. "/_emulator/echo-webhook?amt=" .. S.escape(amt) end

  it("verifies a callback that answers the challenge with HMAC(amt, challenge)", function()
    local body, status = S.admin("POST", "/_emulator/webhooks/verify", { url = echo(S.AMT), webhookId = S.WEBHOOK_ID })
    assert.are.equal(200, status)
    assert.is_true(body.verified)
    assert.are.equal(200, body.status)
    assert.is_string(body.challenge)
    -- what the callback received
    local got = S.admin("GET", "/_emulator/echo-webhook").received
    assert.are.equal(1, #got)
    local payload = S.decode(got[1].body)
    assert.are.equal("VERIFY", payload.eventType)
    assert.are.equal(body.challenge, payload.data.challenge)
    assert.matches(S.UUID, payload.eventId)
    assert.are.equal(S.WEBHOOK_ID, payload.meta.webhookId)
    assert.are.equal("4.0", payload.meta.version)
  end)

  it("reports a wrong HMAC answer as not verified", function()
    local body = S.admin("POST", "/_emulator/webhooks/verify", { url = echo("not-the-amt") })
    assert.is_false(body.verified)
    assert.are.equal(200, body.status)
  end)

  it("uses the given amt", function()
    local body = S.admin("POST", "/_emulator/webhooks/verify", { url = echo("other-amt"), amt = "other-amt" })
    assert.is_true(body.verified)
  end)

  it("reports an unreachable callback", function()
    local body, status = S.admin("POST", "/_emulator/webhooks/verify", { url = "http://127.0.0.1:9/cb" })
    assert.are.equal(200, status)
    assert.is_false(body.verified)
    assert.are.equal(S.null, body.status)
    assert.is_string(body.error)
  end)

  it("delivers a compact JSON payload signed with SC-Signature (test vector)", function()
    local body, status = S.admin("POST", "/_emulator/webhooks/deliver", { url = echo("amt"), amt = "amt",
      payload = { pizza = "pasta" } })
    assert.are.equal(200, status)
    assert.are.equal('{"pizza":"pasta"}', body.body)
    assert.are.equal("4c05a8da471f05156ad717baa4017acd13a3a809850b9ca7d3301dcaaa854f70", body.signature)
    assert.are.equal(200, body.status)
    local got = S.admin("GET", "/_emulator/echo-webhook").received
    assert.are.equal('{"pizza":"pasta"}', got[1].body)
    assert.are.equal(body.signature, got[1].signature)
    assert.is_true(got[1].signatureValid)
  end)

  it("delivers a VEHICLE_STATE event for a vehicle, signed with the app's AMT", function()
    local t = S.token("hooks@example.com")
    local body = S.admin("POST", "/_emulator/webhooks/deliver", { url = echo(S.AMT), vehicleId = t.vehicles[1],
      webhookId = S.WEBHOOK_ID })
    assert.are.equal(200, body.status)
    assert.is_nil(body.body:find(": ", 1, true))
    local p = S.decode(body.body)
    assert.are.equal("VEHICLE_STATE", p.eventType)
    assert.are.equal(t.vehicles[1], p.data.vehicle.id)
    assert.are.equal("TESLA", p.data.vehicle.make)
    assert.are.equal(t.user_id, p.data.user.id)
    assert.is_true(#p.data.signals > 3)
    assert.are.equal(#p.data.signals, p.meta.signalCount)
    assert.is_true(S.admin("GET", "/_emulator/echo-webhook").received[1].signatureValid)
    -- a receiver with another AMT rejects the signature
    body = S.admin("POST", "/_emulator/webhooks/deliver", { url = echo("wrong"), vehicleId = t.vehicles[1] })
    assert.are.equal(401, body.status)
  end)

  it("delivers VEHICLE_ERROR events", function()
    local t = S.token("hooks@example.com")
    local body = S.admin("POST", "/_emulator/webhooks/deliver", { url = echo(S.AMT), vehicleId = t.vehicles[1],
      eventType = "VEHICLE_ERROR" })
    local p = S.decode(body.body)
    assert.are.equal("VEHICLE_ERROR", p.eventType)
    assert.are.equal("COMPATIBILITY", p.data.errors[1].type)
  end)
end)
