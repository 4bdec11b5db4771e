-- The webhook helpers (no network).
local smartcar = require "smartcar"

describe("webhook helpers", function()
  it("hashChallenge() is HMAC-SHA256 in lowercase hex", function()
    assert.are.equal("9baf5a7464bd86740ad5a06e439dcf535a075022ed2c92d74efacf646d79328e",
      smartcar.hashChallenge("amt", "challenge"))
  end)

  it("verifyPayload() checks the raw body, and accepts a table as the Node SDK does", function()
    local sig = "4c05a8da471f05156ad717baa4017acd13a3a809850b9ca7d3301dcaaa854f70"
    assert.is_true(smartcar.verifyPayload("amt", sig, '{"pizza":"pasta"}'))
    assert.is_true(smartcar.verifyPayload("amt", sig:upper(), '{"pizza":"pasta"}'))
    assert.is_true(smartcar.verifyPayload("amt", sig, { pizza = "pasta" }))
    assert.is_false(smartcar.verifyPayload("amt", sig, '{"pizza": "pasta"}'))
    assert.is_false(smartcar.verifyPayload("amt", sig:sub(1, 63), '{"pizza":"pasta"}'))
    assert.is_false(smartcar.verifyPayload("amt", nil, '{"pizza":"pasta"}'))
  end)
end)
