-- TLS: a private HTTPS server with a certificate of its own CA is refused by default
-- and trusted with caFile or caPath; the connection cache never lets one stand in for
-- the other.
local smartcar = require "smartcar"
local socket = require "socket"

local function sh(cmd)
  local ok = os.execute("(" .. cmd .. ") >/dev/null 2>&1")
  return ok == true or ok == 0
end

describe("TLS", function()
  local dir, port, origin
  setup(function()
    dir = assert(io.popen("mktemp -d")):read("*l")
    assert(sh(("cd %s && openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=test-ca -keyout ca.key -out ca.pem"
      .. " && openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout server.key -out server.csr"
      .. " && printf 'subjectAltName=IP:127.0.0.1,DNS:localhost' > ext"
      .. " && openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile ext"
      .. " -out server.pem && mkdir cas && cp ca.pem cas/ && openssl rehash cas"):format(dir)),
      "openssl could not make the test certificates")
    local user = io.popen("id -u"):read("*l") == "0" and "user root root;" or ""
    for _ = 1, 20 do
      port = math.random(20000, 60000)
      local f = assert(io.open(dir .. "/nginx.conf", "w"))
      f:write(([[
%s worker_processes 1; daemon on; pid %s/nginx.pid; error_log %s/error.log;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path %s; proxy_temp_path %s; fastcgi_temp_path %s; uwsgi_temp_path %s; scgi_temp_path %s;
  server {
    listen 127.0.0.1:%d ssl;
    ssl_certificate %s/server.pem; ssl_certificate_key %s/server.key;
    location / { default_type application/json; add_header sc-request-id tls-1; return 200 '{"distance":42}'; }
  }
}]]):format(user, dir, dir, dir, dir, dir, dir, dir, port, dir, dir))
      f:close()
      if sh(("nginx -p %s -c %s/nginx.conf -e %s/error.log"):format(dir, dir, dir)) then break end
    end
    origin = "https://127.0.0.1:" .. port
    for _ = 1, 50 do
      local c = socket.connect("127.0.0.1", port)
      if c then c:close() break end
      socket.sleep(0.1)
    end
  end)

  teardown(function()
    local f = io.open(dir .. "/nginx.pid")
    if f then os.execute("kill " .. f:read("*l") .. " 2>/dev/null; sleep 0.2") f:close() end
    os.execute("rm -rf " .. dir)
  end)

  it("refuses a certificate the system does not trust", function()
    local sc = smartcar.new { origin = origin, timeout = 5000 }
    local res, err = sc.Vehicle.new("v", "t"):odometer()
    assert.is_nil(res)
    assert.are.equal("SDK_ERROR", err.type)
    assert.are.equal("NETWORK", err.code)
    assert.matches("certificate", err.description)
  end)

  it("trusts it with caFile, then with caPath, and never through a connection made for the other", function()
    local trusted = smartcar.new { origin = origin, timeout = 5000, caFile = dir .. "/ca.pem" }
    local res = assert(trusted.Vehicle.new("v", "t"):odometer())
    assert.are.equal(42, res.distance)
    assert.are.equal("tls-1", res.meta.requestId)
    -- the same shared transport, now without the CA: the verified connection is not reused
    local plain = smartcar.new { origin = origin, timeout = 5000 }
    local _, err = plain.Vehicle.new("v", "t"):odometer()
    assert.are.equal("NETWORK", err.code)
    local by_path = smartcar.new { origin = origin, timeout = 5000, caPath = dir .. "/cas" }
    assert.are.equal(42, assert(by_path.Vehicle.new("v", "t"):odometer()).distance)
  end)

  it("through the cosocket transport: refused unverified, taken with sslVerify = false, and the "
    .. "unverified connection never serves a verifying call", function()
    local runner = require("support.nginx").runner()
    finally(runner.stop)
    local function odometer(resty)
      return runner.run { origin = origin, options = { timeout = 5000, retry = false }, calls = { "odometer" },
        resty = resty }.outcomes[1]
    end
    local refused = odometer()
    assert.is_nil(refused.raised)
    assert.is_nil(refused.res)
    -- NETWORK, never an answer, and always told as the handshake's failure: the certificate's
    -- error, or (when this nginx's ngx_lua reports the failed handshake as done, the connection
    -- closed) that the connection closed during the handshake, never a failed send
    assert.are.equal("NETWORK", refused.err.code)
    assert.matches("^SSL connect error: ", refused.err.description)
    local taken = odometer { sslVerify = false }
    assert.is_nil(taken.err)
    assert.are.equal(42, taken.res.distance)
    local again = odometer()
    assert.are.equal("NETWORK", again.err and again.err.code)
    assert.matches("^SSL connect error: ", again.err.description)
  end)

  it("validates the options", function()
    assert.has_error(function() smartcar.new { caFile = "" } end,
      "bad option 'caFile' to 'new' (a file or directory path expected, got '')")
    assert.has_error(function() smartcar.new { caPath = 5 } end,
      "bad option 'caPath' to 'new' (a file or directory path expected, got number)")
  end)
end)
