// Drives the official Node SDK (npm package `smartcar`, 10.4.x) through every one of its calls
// against the emulator, and checks each answer for what the Node SDK's own tests expect of it
// (smartcar/node-sdk: test/end-to-end/*.js and test/unit/**/*.js; each check names its test).
//
//   NODE_PATH=<dir holding node_modules/smartcar> node calls.js <emulator origin>
//
// Prints one JSON line per call:
//   {"call", "source", "ok", "error": {name,type,code,statusCode,...}|null, "checks": [...]}
// where a check is {"what", "pass", "expected", "got", "source", "kind"}; kind "sdk" is what the
// Node SDK's test asserts; kind "smartcar-data" is an assertion on Smartcar's own test data (the
// Chevrolet Volt of its test mode, real VINs in the compatibility API) that an emulator cannot be
// expected to know: reported, never failing the call. The last line is {"call": "coverage", ...}:
// every function the package exports, and every Vehicle method, must have been called.
// Exits 0 when it ran to the end (whatever the checks say), else 1.
'use strict';

const crypto = require('crypto');
const http = require('http');
const {env} = require('process');

const origin = (process.argv[2] || env.SMARTCAR_EMULATOR_ORIGIN || '').replace(/\/+$/, '');
if (!origin) {
  console.error('usage: node calls.js <emulator origin>');
  process.exit(2);
}

// Every origin the SDK reads (lib/util.js, lib/auth-client.js, index.js). getAuthUrl builds the
// Connect URL from SMARTCAR_API_ORIGIN (there is no Connect variable in 10.4).
env.SMARTCAR_API_ORIGIN = origin;
env.SMARTCAR_AUTH_ORIGIN = origin;
env.SMARTCAR_API_V3_ORIGIN = origin;
env.SMARTCAR_MANAGEMENT_API_ORIGIN = origin;
delete env.SMARTCAR_CLIENT_ID;
delete env.SMARTCAR_CLIENT_SECRET;

const smartcar = require('smartcar');
const SmartcarService = require('smartcar/lib/smartcar-service');
const {version: sdkVersion} = require('smartcar/package.json');

const CLIENT_ID = '8229df9f-91a0-4ff0-a1ae-a1f38ee24d07';
const CLIENT_SECRET = 'emulator-client-secret';
const REDIRECT_URI = 'https://example.com/callback';
const AMT = 'emulator-amt';
const WEBHOOK_ID = '4bd5a6e8-1c2e-4d4b-9a8b-5b1f0c8a9d01';

const E2E = 'test/end-to-end';
const UNIT = 'test/unit';

// test/end-to-end/helpers/index.js:29-42
const DEFAULT_SCOPES = [
  'required:read_vehicle_info',
  'required:read_location',
  'required:read_odometer',
  'required:control_security',
  'required:read_vin',
  'required:read_fuel',
  'required:read_battery',
  'required:read_charge',
  'required:read_engine_oil',
  'required:read_tires',
  'required:read_user_profile',
  'required:read_diagnostics',
];

// test/end-to-end/helpers/index.js:44-49 (the emulator's default app and one of its redirect URIs)
const authClientParams = () => ({
  clientId: CLIENT_ID,
  clientSecret: CLIENT_SECRET,
  redirectUri: REDIRECT_URI,
  mode: 'test',
});

// ---------------------------------------------------------------------------------------------
// Coverage: every call made through the SDK's public surface is recorded.

const called = new Set();
const MODULE_FUNCTIONS = Object.keys(smartcar).filter((k) => typeof smartcar[k] === 'function'
  && !['SmartcarError', 'Vehicle', 'AuthClient'].includes(k));
for (const name of MODULE_FUNCTIONS) {
  const f = smartcar[name];
  smartcar[name] = function(...args) {
    called.add(name);
    return f.apply(this, args);
  };
}
const VEHICLE_METHODS = Object.keys(smartcar.Vehicle.prototype);
for (const name of VEHICLE_METHODS) {
  const f = smartcar.Vehicle.prototype[name];
  smartcar.Vehicle.prototype[name] = function(...args) {
    called.add(`Vehicle#${name}`);
    return f.apply(this, args);
  };
}
const AUTH_METHODS = Object.keys(smartcar.AuthClient.prototype);
for (const name of AUTH_METHODS) {
  const f = smartcar.AuthClient.prototype[name];
  smartcar.AuthClient.prototype[name] = function(...args) {
    called.add(`AuthClient#${name}`);
    return f.apply(this, args);
  };
}

// ---------------------------------------------------------------------------------------------
// Checks

const show = (v) => {
  if (v instanceof Date) return isNaN(v) ? 'Invalid Date' : `Date(${v.toISOString()})`;
  if (v === undefined) return 'undefined';
  if (typeof v === 'function') return 'function';
  try {
    const s = JSON.stringify(v);
    return s.length > 400 ? `${s.slice(0, 400)}...` : JSON.parse(s);
  } catch {
    return String(v);
  }
};

const xor = (a, b) => a.filter((x) => !b.includes(x)).concat(b.filter((x) => !a.includes(x)));

class Checks {
  constructor(source) {
    this.source = source;
    this.list = [];
  }

  add(what, pass, expected, got, source, kind = 'sdk') {
    this.list.push({what, pass: Boolean(pass), expected, got: show(got), source: source || this.source, kind});
    return Boolean(pass);
  }

  // _.xor(_.keys(obj), keys) deepEquals []
  keys(obj, keys, source, what = 'keys') {
    const got = obj && typeof obj === 'object' ? Object.keys(obj) : obj;
    const pass = Array.isArray(got) && xor(got, keys).length === 0;
    return this.add(what, pass, `exactly [${keys.join(', ')}]`, Array.isArray(got) ? got : got, source);
  }

  is(what, got, expected, source, kind) {
    return this.add(what, Object.is(got, expected), show(expected), got, source, kind);
  }

  truthy(what, cond, got, expected, source, kind) {
    return this.add(what, cond, expected || 'truthy', got, source, kind);
  }

  type(what, got, type, source) {
    return this.add(what, typeof got === type, `a ${type}`, got, source);
  }

  len36(what, got, source) {
    return this.add(what, typeof got === 'string' && got.length === 36, 'length 36 (a UUID)', got, source);
  }

  // `x instanceof Date` (and a real date: the unit tests compare dataAge.valueOf() to the header)
  date(what, got, source) {
    return this.add(what, got instanceof Date && !isNaN(got), 'a valid Date', got, source);
  }

  unit(what, got, expected, source) {
    return this.add(what, got >= 0 && got <= 1, `a number in [0, 1]${expected ? ` (${expected})` : ''}`,
      got, source);
  }
}

const errorInfo = (e) => {
  if (!e) return null;
  const out = {name: e.name, message: e.message, isSmartcarError: e instanceof smartcar.SmartcarError};
  for (const k of ['type', 'code', 'statusCode', 'requestId', 'description', 'docURL', 'resolution',
    'retryAfter', 'suggestedUserMessage', 'detail']) {
    if (e[k] !== undefined) out[k] = e[k];
  }
  return out;
};

const results = [];
const emit = (r) => {
  results.push(r);
  process.stdout.write(`${JSON.stringify(r)}\n`);
};

const finish = (call, source, c, error, extra) => {
  const hard = c.list.filter((x) => x.kind === 'sdk');
  const ok = !error && hard.every((x) => x.pass);
  emit({call, source, ok, error: errorInfo(error), checks: c.list, ...extra});
  return ok;
};

// A call expected to succeed: `expect(result, checks)` asserts on the answer.
async function step(call, source, run, expect = () => {}) {
  const c = new Checks(source);
  let res;
  try {
    res = await run();
  } catch (e) {
    finish(call, source, c, e);
    return undefined;
  }
  try {
    await expect(res, c);
  } catch (e) {
    c.add('expectations ran', false, 'no exception', `${e.name}: ${e.message}`);
  }
  finish(call, source, c, null);
  return res;
}

// A call expected to throw: `expect(error, checks)` asserts on the error.
async function throws(call, source, run, expect = () => {}) {
  const c = new Checks(source);
  let res;
  try {
    res = await run();
  } catch (e) {
    try {
      await expect(e, c);
    } catch (e2) {
      c.add('expectations ran', false, 'no exception', `${e2.name}: ${e2.message}`);
    }
    finish(call, source, c, null, {threw: errorInfo(e)});
    return e;
  }
  c.add('throws', false, 'an error', res);
  finish(call, source, c, null);
  return undefined;
}

const skip = (call, source, reason) => emit({call, source, ok: true, skipped: reason, error: null, checks: []});

// ---------------------------------------------------------------------------------------------
// Connect: the e2e's runAuthFlow (test/end-to-end/helpers/index.js:89-146) with plain HTTP forms
// instead of a browser: Continue, (search,) brand, username/password, approve, redirect with code.

const ENTITIES = {amp: '&', quot: '"', lt: '<', gt: '>', '#39': '\''};
const unescape = (s) => s.replace(/&(#?\w+);/g, (m, e) => ENTITIES[e] || m);
const attrs = (tag) => {
  const a = {};
  for (const [, k, v] of tag.matchAll(/([\w-]+)="([^"]*)"/g)) a[k.toLowerCase()] = unescape(v);
  return a;
};

function formWith(html, id) {
  for (const [, open, inner] of html.matchAll(/(<form[^>]*>)([\s\S]*?)<\/form>/g)) {
    const elements = [...inner.matchAll(/<(input|button)[^>]*>/g)].map(([tag, kind]) => ({kind, ...attrs(tag)}));
    const target = elements.find((e) => e.id === id);
    if (target) {
      const fa = attrs(open);
      return {method: (fa.method || 'GET').toUpperCase(), action: fa.action, elements, target};
    }
  }
  return null;
}

function submit(base, form, values = {}) {
  const fields = new URLSearchParams();
  for (const e of form.elements) {
    if (e.kind === 'input' && e.type === 'hidden' && e.name) fields.append(e.name, e.value || '');
    if (e.kind === 'input' && e.id in values && e.name) fields.append(e.name, values[e.id]);
  }
  if (form.target.kind === 'button' && form.target.name) fields.append(form.target.name, form.target.value || '');
  const url = new URL(form.action, base).toString();
  if (form.method === 'POST') return {url, method: 'POST', body: fields.toString()};
  return {url: `${url}${url.includes('?') ? '&' : '?'}${fields.toString()}`, method: 'GET', body: null};
}

async function runAuthFlow(authUrl, brand = 'CHEVROLET', email = '', approve = true) {
  email = email || `${crypto.randomUUID()}@email.com`;
  let req = {url: authUrl, method: 'GET', body: null};
  let searched = false;
  for (let i = 0; i < 16; i++) {
    const headers = req.body ? {'content-type': 'application/x-www-form-urlencoded'} : {};
    // eslint-disable-next-line no-await-in-loop
    const res = await fetch(req.url, {method: req.method, body: req.body, headers, redirect: 'manual'});
    if (res.status === 302 || res.status === 303) {
      const location = new URL(res.headers.get('location'), req.url).toString();
      if (!location.startsWith(`${origin}/`)) return location;
      req = {url: location, method: 'GET', body: null};
      continue;
    }
    // eslint-disable-next-line no-await-in-loop
    const html = await res.text();
    if (res.status !== 200) {
      throw new Error(`Connect: HTTP ${res.status} on ${req.url.split('?')[0]}: ${html.slice(0, 200)}`);
    }
    let form;
    if ((form = formWith(html, 'continue-button'))) {
      req = submit(req.url, form);
    } else if ((form = formWith(html, brand.toUpperCase())) && /brand-list-item/.test(form.target.class || '')) {
      req = submit(req.url, form);
    } else if (!searched && (form = formWith(html, 'brand-search'))) {
      searched = true; // the e2e types the brand into input#brand-search (for KIA)
      form.target = form.elements.find((e) => e.kind === 'button' && e.type === 'submit') || form.target;
      req = submit(req.url, form, {'brand-search': brand});
    } else if ((form = formWith(html, 'sign-in-button'))) {
      req = submit(req.url, form, {username: email, password: 'password'});
    } else if ((form = formWith(html, approve ? 'approval-button' : 'deny-button'))) {
      req = submit(req.url, form);
    } else {
      throw new Error(`Connect: no form to submit on ${req.url.split('?')[0]} (brand ${brand})`);
    }
  }
  throw new Error('Connect: too many pages');
}

// test/end-to-end/helpers/index.js:51-62
const getCodeFromUri = (uri) => {
  const {searchParams} = new URL(uri);
  const code = searchParams.get('code');
  if (code) return code;
  throw new Error(`Did not get code in url! Query string: ${searchParams.get('error')}`);
};

const admin = async(method, path, body) => {
  const res = await fetch(`${origin}/_emulator/${path}`, {
    method,
    headers: body ? {'content-type': 'application/json'} : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  return {status: res.status, body: await res.json().catch(() => null)};
};

// test/end-to-end/vehicle.js:14-21: Connect for a brand, exchange the code, first vehicle.
async function getVehicle(label, brand, scope, source) {
  const out = {};
  await step(`setup ${label}: Connect (${brand}) + exchangeCode + getVehicles`, source, async() => {
    const client = new smartcar.AuthClient(authClientParams());
    const code = getCodeFromUri(await runAuthFlow(client.getAuthUrl(scope), brand));
    const {accessToken} = await client.exchangeCode(code);
    const {vehicles} = await smartcar.getVehicles(accessToken);
    out.vehicle = new smartcar.Vehicle(vehicles[0], accessToken);
    out.vehicles = vehicles;
    out.accessToken = accessToken;
    return vehicles;
  }, (vehicles, c) => c.truthy('a vehicle', vehicles.length >= 1, vehicles, 'at least one vehicle id'));
  return out;
}

// ---------------------------------------------------------------------------------------------

const META = (c, meta, {dataAge = false, unitSystem, line} = {}) => {
  c.len36('meta.requestId', meta && meta.requestId, line);
  if (dataAge) c.date('meta.dataAge', meta && meta.dataAge, line);
  if (unitSystem) c.is('meta.unitSystem', meta && meta.unitSystem, unitSystem, line);
};

const SUCCESS_MESSAGE = 'Successfully sent request to vehicle';
const actionExpect = (line) => (r, c) => {
  c.keys(r, ['status', 'message', 'meta'], line);
  c.is('status', r.status, 'success', line);
  c.is('message', r.message, SUCCESS_MESSAGE, line);
  META(c, r.meta, {line});
};

const lockStatusKeys = ['isLocked', 'doors', 'windows', 'sunroof', 'storage', 'chargingPort', 'meta'];

async function authClientCalls() {
  const F = `${E2E}/auth-client.js`;
  const U = `${UNIT}/lib/auth-client.js`;
  const client = new smartcar.AuthClient(authClientParams());

  const url = await step('AuthClient#getAuthUrl', `${U}:85-113`, () => client.getAuthUrl(DEFAULT_SCOPES), (u, c) => {
    const parsed = new URL(u);
    c.is('origin (SMARTCAR_API_ORIGIN)', parsed.origin, origin, `${U}:107-108`);
    c.is('pathname', parsed.pathname, '/oauth/authorize', `${U}:109`);
    const q = parsed.searchParams;
    c.is('response_type', q.get('response_type'), 'code', `${U}:94`);
    c.is('client_id', q.get('client_id'), CLIENT_ID, `${U}:94`);
    c.is('redirect_uri', q.get('redirect_uri'), REDIRECT_URI, `${U}:95`);
    c.is('approval_prompt', q.get('approval_prompt'), 'auto', `${U}:96`);
    c.is('scope', q.get('scope'), DEFAULT_SCOPES.join(' '), `${U}:97`);
    c.is('mode', q.get('mode'), 'test', `${U}:199`);
  });

  let tokens;
  await step('Connect (runAuthFlow, CHEVROLET) + AuthClient#exchangeCode', `${F}:10-31`, async() => {
    const redirect = await runAuthFlow(url, 'CHEVROLET');
    tokens = await client.exchangeCode(getCodeFromUri(redirect));
    return tokens;
  }, (t, c) => {
    c.keys(t, ['accessToken', 'expiration', 'refreshExpiration', 'refreshToken'], `${F}:22-30`);
    c.type('accessToken', t.accessToken, 'string', `${U}:440`);
    c.type('refreshToken', t.refreshToken, 'string', `${U}:441`);
    c.date('expiration', t.expiration, `${U}:443`);
    c.date('refreshExpiration', t.refreshExpiration, `${U}:444`);
  });

  if (tokens) {
    await step('AuthClient#exchangeRefreshToken', `${F}:33-50`, () => client.exchangeRefreshToken(tokens.refreshToken),
      (t, c) => {
        c.keys(t, ['accessToken', 'expiration', 'refreshExpiration', 'refreshToken'], `${F}:41-49`);
        c.date('expiration', t.expiration, `${U}:480`);
        c.date('refreshExpiration', t.refreshExpiration, `${U}:481`);
        c.truthy('a new access token', t.accessToken && t.accessToken !== tokens.accessToken, t.accessToken,
          'a token other than the first', `${U}:477`);
      });
  }

  // exchangeCode / exchangeRefreshToken with flags (test/unit/lib/auth-client.js:409-483: ?flags=pizza:pasta)
  let flagged;
  await step('AuthClient#getAuthUrl (options: state, makeBypass, forcePrompt, flags) + Connect + exchangeCode {flags}',
    `${U}:174-214,409-446`, async() => {
      const u = client.getAuthUrl(['read_odometer', 'read_vehicle_info'], {
        makeBypass: 'TESLA', state: 'fakestate', forcePrompt: true, flags: {country: 'DE', flag: 'suboption'},
      });
      const q = new URL(u).searchParams;
      const redirect = await runAuthFlow(u, 'TESLA');
      const back = new URL(redirect).searchParams;
      flagged = await client.exchangeCode(getCodeFromUri(redirect), {flags: {pizza: 'pasta'}});
      return {q, back, tokens: flagged};
    }, (r, c) => {
      c.is('approval_prompt', r.q.get('approval_prompt'), 'force', `${U}:194`);
      c.is('make', r.q.get('make'), 'TESLA', `${U}:197`);
      c.is('flags', r.q.get('flags'), 'country:DE flag:suboption', `${U}:198`);
      c.is('state given back by Connect', r.back.get('state'), 'fakestate', `${U}:196`);
      c.type('accessToken', r.tokens.accessToken, 'string', `${U}:440`);
      c.date('expiration', r.tokens.expiration, `${U}:443`);
    });
  if (flagged) {
    await step('AuthClient#exchangeRefreshToken {flags}', `${U}:448-483`,
      () => client.exchangeRefreshToken(flagged.refreshToken, {flags: {pizza: 'pasta'}}), (t, c) => {
        c.type('accessToken', t.accessToken, 'string', `${U}:477`);
        c.type('refreshToken', t.refreshToken, 'string', `${U}:478`);
        c.date('refreshExpiration', t.refreshExpiration, `${U}:481`);
      });
  }

  // single select by VIN and user (test/unit/lib/auth-client.js:330-407): Connect authorises that VIN.
  await step('AuthClient#getAuthUrl (singleSelect {vin}, user) + Connect', `${U}:330-407`, async() => {
    const vin = '5YJSA1E26HF000001';
    const u = client.getAuthUrl(['read_vin'], {state: 'fakestate', singleSelect: {vin}, user: 'test-user-param'});
    const q = new URL(u).searchParams;
    const {accessToken} = await client.exchangeCode(getCodeFromUri(await runAuthFlow(u, 'TESLA')));
    const {vehicles} = await smartcar.getVehicles(accessToken);
    const got = await new smartcar.Vehicle(vehicles[0], accessToken).vin();
    return {q, vin, vehicles, got};
  }, (r, c) => {
    c.is('single_select', r.q.get('single_select'), 'true', `${U}:353`);
    c.is('single_select_vin', r.q.get('single_select_vin'), r.vin, `${U}:354`);
    c.is('user', r.q.get('user'), 'test-user-param', `${U}:391`);
    c.is('vehicles authorised', r.vehicles.length, 1, `${U}:330-370`);
    c.is('the VIN chosen', r.got.vin, r.vin, `${U}:354`);
  });

  // Client-side validation (no request): test/unit/lib/auth-client.js:68-83
  await throws('AuthClient constructor (mode invalid)', `${U}:68-83`,
    () => new smartcar.AuthClient({...authClientParams(), mode: 'pizza'}), (e, c) => {
      c.is('message', e.message,
        'The "mode" parameter MUST be one of the following: \'test\', \'live\', \'simulated\'', `${U}:78-82`);
    });

  // An unknown code: the token endpoint's OAuth error as a SmartcarError (lib/smartcar-error.js: the
  // body's `error` becomes `type`, `error_description` becomes `description`; test/unit/lib/util.js:109-122).
  await throws('AuthClient#exchangeCode (unknown code)', `${UNIT}/lib/util.js:109-122`,
    () => client.exchangeCode('not-a-code'), (e, c) => {
      c.is('instanceof SmartcarError', e instanceof smartcar.SmartcarError, true);
      c.is('statusCode', e.statusCode, 400);
      c.type('type (body.error)', e.type, 'string', `${UNIT}/lib/util.js:119`);
      c.type('description (body.error_description)', e.description, 'string', `${UNIT}/lib/util.js:120`);
    });
}

async function moduleCalls() {
  const F = `${E2E}/index.js`;
  const U = `${UNIT}/index.js`;
  const ctx = {};

  // test/end-to-end/index.js:11-28
  await step('setup index: Connect (CHEVROLET) + exchangeCode + getVehicles + getUser', `${F}:11-28`, async() => {
    const client = new smartcar.AuthClient(authClientParams());
    const code = getCodeFromUri(await runAuthFlow(client.getAuthUrl(DEFAULT_SCOPES)));
    const {accessToken} = await client.exchangeCode(code);
    const {vehicles} = await smartcar.getVehicles(accessToken);
    const {id: userId} = await smartcar.getUser(accessToken);
    Object.assign(ctx, {accessToken, connectedVehicles: vehicles, userId});
    return ctx;
  }, (r, c) => c.truthy('vehicles', r.connectedVehicles.length >= 1, r.connectedVehicles, 'at least one'));
  if (!ctx.accessToken) return;

  await step('getVehicles', `${F}:30-45`, () => smartcar.getVehicles(ctx.accessToken), (r, c) => {
    c.keys(r, ['vehicles', 'paging', 'meta'], `${F}:32-39`);
    c.is('paging.offset', r.paging && r.paging.offset, 0, `${F}:40`);
    r.vehicles.forEach((id, i) => c.len36(`vehicles[${i}]`, id, `${F}:41-43`));
    c.len36('meta.requestId', r.meta.requestId, `${F}:44`);
  });

  await step('getVehicles {limit: 1}', `${U}:69-83`, () => smartcar.getVehicles(ctx.accessToken, {limit: 1}),
    (r, c) => {
      c.is('vehicles.length', r.vehicles.length, 1, `${U}:81`);
      c.is('paging.count', r.paging && r.paging.count, ctx.connectedVehicles.length, `${U}:62,77`);
    });

  await step('getVehicle (v3)', `${F}:47-58`, () => smartcar.getVehicle(ctx.accessToken, ctx.connectedVehicles[0]),
    (r, c) => {
      c.keys(r, ['body', 'headers'], `${F}:53`);
      c.is('body.id', r.body.id, ctx.connectedVehicles[0], `${F}:55`);
      c.is('body.type', r.body.type, 'vehicle', `${U}:10-21`);
      c.type('body.attributes.make', r.body.attributes && r.body.attributes.make, 'string', `${U}:14`);
      c.type('body.attributes.model', r.body.attributes && r.body.attributes.model, 'string', `${U}:15`);
      c.type('body.attributes.year', r.body.attributes && r.body.attributes.year, 'number', `${U}:16`);
      c.type('body.links.self', r.body.links && r.body.links.self, 'string', `${U}:18-20`);
      c.len36('headers[sc-request-id] (v3 meta is the raw headers)', r.headers['sc-request-id'],
        'lib/smartcar-service.js (apiVersion 3)');
    });

  await step('getUser', `${F}:60-72`, () => smartcar.getUser(ctx.accessToken), (r, c) => {
    c.keys(r, ['id', 'meta'], `${F}:62-67`);
    c.len36('id', r.id, `${F}:70`);
    c.len36('meta.requestId', r.meta.requestId, `${F}:71`);
    c.is('id (same user as Connect)', r.id, ctx.userId, `${U}:109`);
  });

  // test/end-to-end/index.js:74-109 (live mode, real VINs)
  const {clientId, clientSecret} = authClientParams();
  const teslaVin = '5YJXCDE22HF068739';
  const audiVin = 'WAUAFAFL1GN014882';
  const scope = ['read_odometer', 'read_location'];
  const compat = {};
  for (const [name, vin] of [['tesla', teslaVin], ['audi', audiVin]]) {
    // eslint-disable-next-line no-await-in-loop
    compat[name] = await step(`getCompatibility (${name} VIN ${vin})`, `${F}:74-109`,
      () => smartcar.getCompatibility(vin, scope, null, {clientId, clientSecret}), (r, c) => {
        c.keys(r, ['compatible', 'reason', 'capabilities', 'meta'], `${F}:94-101`);
        c.truthy('compatible', r.compatible, r.compatible, 'truthy', `${F}:103`);
        c.len36('meta.requestId', r.meta.requestId, `${F}:104`);
        c.is('capabilities.length', r.capabilities && r.capabilities.length, 2, `${F}:105`);
        const all = (v) => Array.isArray(r.capabilities) && r.capabilities.every((x) => x.capable === v);
        if (name === 'audi') {
          c.truthy('every capability capable: false (Smartcar\'s data for this Audi)', all(false), r.capabilities,
            'capable false for read_odometer and read_location', `${F}:107`, 'smartcar-data');
        } else {
          c.truthy('every capability capable: true', all(true), r.capabilities, 'capable true', `${F}:108`);
        }
      });
  }

  // test/unit/index.js:133-181: flags, testModeCompatibilityLevel (→ mode=test), country as options
  await step('getCompatibility (options: flags, testModeCompatibilityLevel "compatible", no country)',
    `${U}:133-181`, () => smartcar.getCompatibility(teslaVin, scope, {
      clientId, clientSecret, flags: {test: 'test'}, testModeCompatibilityLevel: 'compatible',
    }), (r, c) => {
      c.keys(r, ['compatible', 'reason', 'capabilities', 'meta'], `${F}:94-101`);
      c.is('compatible', r.compatible, true, `${F}:103`);
      c.len36('meta.requestId', r.meta.requestId, `${F}:104`);
    });
  await throws('getCompatibility (no client id)', `${U}:119-131`, () => smartcar.getCompatibility(teslaVin, scope),
    (e, c) => c.is('message', e.message, 'SMARTCAR_CLIENT_ID not set or passed as arguments', `${U}:125`));

  // test/end-to-end/index.js:111-137
  await step('getCompatibilityMatrix (US, NISSAN BEV, read_battery read_charge)', `${F}:111-137`,
    () => smartcar.getCompatibilityMatrix('US', {
      scope: ['read_battery', 'read_charge'], make: 'NISSAN', type: 'BEV', clientId, clientSecret,
    }), (r, c) => {
      c.truthy('NISSAN', Array.isArray(r.NISSAN) && r.NISSAN.length > 0, r.NISSAN, 'a non-empty list', `${F}:120`);
      (r.NISSAN || []).forEach((v, i) => {
        c.keys(v, ['model', 'type', 'startYear', 'endYear', 'endpoints', 'permissions'], `${F}:122-132`,
          `NISSAN[${i}] keys`);
        c.is(`NISSAN[${i}].type`, v.type, 'BEV', `${F}:133`);
        c.truthy(`NISSAN[${i}].permissions has read_battery`, (v.permissions || []).includes('read_battery'),
          v.permissions, 'includes read_battery', `${F}:134`);
        c.truthy(`NISSAN[${i}].permissions has read_charge`, (v.permissions || []).includes('read_charge'),
          v.permissions, 'includes read_charge', `${F}:135`);
      });
      c.len36('meta.requestId', r.meta && r.meta.requestId, 'lib/smartcar-service.js buildMeta');
    });
  await step('getCompatibilityMatrix (US, no filters)', `${U}:273-291`,
    () => smartcar.getCompatibilityMatrix('US', {clientId, clientSecret, testMode: false}), (r, c) => {
      const makes = Object.keys(r).filter((k) => k !== 'meta');
      c.truthy('makes', makes.length > 0, makes, 'at least one make');
    });

  // management: test/end-to-end/index.js:139-189
  await step('getConnections', `${F}:139-145`, () => smartcar.getConnections(AMT), (r, c) => {
    const first = r.connections && r.connections[0];
    c.truthy('connections[0].userId', first && first.userId, first, 'truthy', `${F}:142`);
    c.truthy('connections[0].vehicleId', first && first.vehicleId, first, 'truthy', `${F}:143`);
    c.truthy('connections[0].connectedAt', first && first.connectedAt, first, 'truthy', `${F}:144`);
  });
  await step('getConnections {vehicleId}', `${F}:147-153`,
    () => smartcar.getConnections(AMT, {vehicleId: ctx.connectedVehicles[0]}), (r, c) => {
      c.is('connections.length', r.connections.length, 1, `${F}:151`);
      c.is('connections[0].vehicleId', r.connections[0] && r.connections[0].vehicleId, ctx.connectedVehicles[0],
        `${F}:152`);
    });
  await step('getConnections {userId}', `${F}:155-162`, () => smartcar.getConnections(AMT, {userId: ctx.userId}),
    (r, c) => {
      c.is('connections.length = vehicles connected', r.connections.length, ctx.connectedVehicles.length,
        `${F}:158`);
      c.truthy('every connection.userId', r.connections.every((x) => x.userId === ctx.userId), r.connections,
        `userId ${ctx.userId}`, `${F}:159-161`);
    });
  await step('getConnections {userId} {limit: 1}', `${F}:164-171`,
    () => smartcar.getConnections(AMT, {userId: ctx.userId}, {limit: 1}), (r, c) => {
      c.is('connections.length = vehicles connected (one, in test mode)', r.connections.length,
        ctx.connectedVehicles.length, `${F}:170`);
      c.is('vehicles connected by one test-mode Connect', ctx.connectedVehicles.length, 1, `${F}:158,170,185`);
    });
  await step('getConnections {} {limit: 1} then {cursor}', `${U}:383-418`, async() => {
    const first = await smartcar.getConnections(AMT, {}, {limit: 1});
    const next = first.paging && first.paging.cursor
      ? await smartcar.getConnections(AMT, {}, {cursor: first.paging.cursor}) : null;
    return {first, next};
  }, (r, c) => {
    c.is('connections.length', r.first.connections.length, 1, `${U}:396`);
    c.type('paging.cursor', r.first.paging && r.first.paging.cursor, 'string', `${U}:397`);
    c.truthy('next page', r.next && r.next.connections.length >= 1, r.next && r.next.connections,
      'at least one connection', `${U}:415`);
  });
  await step('deleteConnections {vehicleId}', `${F}:173-179`,
    () => smartcar.deleteConnections(AMT, {vehicleId: ctx.connectedVehicles[0]}), (r, c) => {
      c.is('connections.length', r.connections.length, 1, `${F}:177`);
      c.is('connections[0].vehicleId', r.connections[0] && r.connections[0].vehicleId, ctx.connectedVehicles[0],
        `${F}:178`);
    });
  await step('deleteConnections {userId}', `${F}:181-189`, () => smartcar.deleteConnections(AMT, {userId: ctx.userId}),
    (r, c) => {
      c.is('connections.length = vehicles connected - 1', r.connections.length, ctx.connectedVehicles.length - 1,
        `${F}:185`);
      c.truthy('every connection.userId', r.connections.every((x) => x.userId === ctx.userId), r.connections,
        `userId ${ctx.userId}`, `${F}:186-188`);
    });
  await throws('deleteConnections (both filters)', `${U}:450-461`,
    () => smartcar.deleteConnections(AMT, {vehicleId: 'vehicle id', userId: 'user id'}), (e, c) => {
      c.is('message', e.message, 'Filter can contain EITHER user_id OR vehicle_id, not both', `${U}:457-460`);
    });

  // test/unit/index.js:23-40
  await step('setApiVersion / getApiVersion (+ getVehicles, getUser on v1.0)', `${U}:23-40`, async() => {
    const before = new smartcar.Vehicle('x', 'y');
    smartcar.setApiVersion('1.0');
    try {
      const version = smartcar.getApiVersion();
      const after = new smartcar.Vehicle('x', 'y');
      const vehicles = await smartcar.getVehicles(ctx.accessToken);
      const user = await smartcar.getUser(ctx.accessToken);
      return {before, version, after, vehicles, user};
    } finally {
      smartcar.setApiVersion('2.0');
    }
  }, (r, c) => {
    c.is('getApiVersion()', r.version, '1.0', `${U}:28`);
    c.is('an older Vehicle keeps its version', r.before.version, '2.0', `${U}:30`);
    c.is('a new Vehicle takes it', r.after.version, '1.0', `${U}:33`);
    c.is('getApiVersion() once reset', smartcar.getApiVersion(), '2.0', `${U}:35`);
    c.truthy('v1.0 getVehicles', Array.isArray(r.vehicles.vehicles), r.vehicles, 'a vehicles list', `${F}:30-45`);
    c.len36('v1.0 getUser id', r.user.id, `${F}:70`);
  });

  // test/unit/index.js:42-52; then the same functions against the emulator's webhook calls.
  await step('hashChallenge', `${U}:42-45`, () => smartcar.hashChallenge('amt', 'challenge'), (r, c) => {
    c.is('HMAC-SHA256', r, '9baf5a7464bd86740ad5a06e439dcf535a075022ed2c92d74efacf646d79328e', `${U}:44`);
  });
  await step('verifyPayload', `${U}:47-52`,
    () => smartcar.verifyPayload('amt', '4c05a8da471f05156ad717baa4017acd13a3a809850b9ca7d3301dcaaa854f70',
      {pizza: 'pasta'}), (r, c) => c.is('verified', r, true, `${U}:51`));
  await webhookCalls(ctx);
}

// A callback on this machine for the emulator's webhook calls: answers VERIFY with hashChallenge,
// checks deliveries with verifyPayload.
async function webhookCalls(ctx) {
  const U = `${UNIT}/index.js`;
  const received = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => {
      body += d;
    });
    req.on('end', () => {
      let payload = null;
      try {
        payload = JSON.parse(body);
      } catch {
        payload = null;
      }
      received.push({headers: req.headers, payload, raw: body});
      const challenge = payload && payload.eventType === 'VERIFY' && payload.data && payload.data.challenge;
      res.writeHead(200, {'content-type': 'application/json'});
      res.end(challenge ? JSON.stringify({challenge: smartcar.hashChallenge(AMT, challenge)}) : '{}');
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}/webhook`;
  try {
    await step('hashChallenge (answering the emulator\'s VERIFY challenge)', `${U}:42-45`, async() => {
      const r = await admin('POST', 'webhooks/verify', {url, webhookId: WEBHOOK_ID});
      return r;
    }, (r, c) => {
      c.is('admin status', r.status, 200);
      c.is('verified by the emulator', r.body && r.body.verified, true, `${U}:42-45`);
    });
    await step('verifyPayload (a delivery signed by the emulator)', `${U}:47-52`, async() => {
      received.length = 0;
      const r = await admin('POST', 'webhooks/deliver', {url, webhookId: WEBHOOK_ID,
        vehicleId: ctx.connectedVehicles[0]});
      const got = received[0];
      if (!got) throw new Error(`no delivery received (admin answered ${r.status} ${JSON.stringify(r.body)})`);
      const signature = got.headers['sc-signature'];
      return {signature, ok: smartcar.verifyPayload(AMT, signature, got.payload),
        raw: got.raw, restringified: JSON.stringify(got.payload)};
    }, (r, c) => {
      c.type('SC-Signature header', r.signature, 'string');
      c.is('verifyPayload(amt, SC-Signature, JSON.parse(body))', r.ok, true, `${U}:47-52`);
      c.is('body is JSON.stringify of itself (what verifyPayload hashes)', r.raw, r.restringified, 'index.js verifyPayload');
    });
  } finally {
    server.close();
  }
}

async function vehicleCalls() {
  const F = `${E2E}/vehicle.js`;
  const U = `${UNIT}/lib/vehicle.js`;
  const C = `${UNIT}/lib/vehicle-coverage.js`;

  // test/end-to-end/vehicle.js:23-53
  const {vehicle: volt} = await getVehicle('volt', 'CHEVROLET', DEFAULT_SCOPES, `${F}:25`);
  const {vehicle: ford} = await getVehicle('ford', 'FORD', [
    'required:control_charge',
    'required:control_security',
    'required:read_security',
    'required:control_navigation',
    'required:read_service_history',
  ], `${F}:30-36`);
  const {vehicle: kia} = await getVehicle('kia', 'KIA', [
    'required:read_charge',
    'required:control_charge',
  ], `${F}:41-44`);

  if (volt) {
    await step('Vehicle#vin', `${F}:55-66`, () => volt.vin(), (r, c) => {
      c.keys(r, ['vin', 'meta'], `${F}:57-63`);
      c.is('vin.length', r.vin && r.vin.length, 17, `${F}:64`);
      META(c, r.meta, {line: `${F}:65`});
    });
    await step('Vehicle#charge', `${F}:68-85`, () => volt.charge(), (r, c) => {
      c.keys(r, ['isPluggedIn', 'state', 'meta'], `${F}:70-77`);
      c.truthy('state', ['CHARGING', 'FULLY_CHARGED', 'NOT_CHARGING'].includes(r.state), r.state,
        'CHARGING, FULLY_CHARGED or NOT_CHARGING', `${F}:79-81`);
      c.type('isPluggedIn', r.isPluggedIn, 'boolean', `${F}:82`);
      META(c, r.meta, {dataAge: true, line: `${F}:83-84`});
    });
    await step('Vehicle#battery', `${F}:87-103`, () => volt.battery(), (r, c) => {
      c.keys(r, ['range', 'percentRemaining', 'meta'], `${F}:89-96`);
      c.type('range', r.range, 'number', `${F}:98`);
      c.unit('percentRemaining', r.percentRemaining, null, `${F}:99`);
      META(c, r.meta, {dataAge: true, unitSystem: 'metric', line: `${F}:100-102`});
    });
    await step('Vehicle#batteryCapacity', `${F}:105-118`, () => volt.batteryCapacity(), (r, c) => {
      c.keys(r, ['capacity', 'meta'], `${F}:107-113`);
      c.type('capacity', r.capacity, 'number', `${F}:115`);
      META(c, r.meta, {dataAge: true, line: `${F}:116-117`});
    });
    await step('Vehicle#nominalCapacity', `${F}:120-136`, () => volt.nominalCapacity(), (r, c) => {
      c.keys(r, ['availableCapacities', 'capacity', 'url', 'meta'], `${F}:122-130`);
      c.truthy('availableCapacities', Array.isArray(r.availableCapacities), r.availableCapacities, 'an array',
        `${F}:132`);
      c.type('capacity', r.capacity, 'object', `${F}:133`);
      META(c, r.meta, {dataAge: true, line: `${F}:134-135`});
    });
    await step('Vehicle#fuel', `${F}:138-156`, () => volt.fuel(), (r, c) => {
      c.keys(r, ['range', 'percentRemaining', 'amountRemaining', 'meta'], `${F}:140-148`);
      c.type('range', r.range, 'number', `${F}:150`);
      c.type('amountRemaining', r.amountRemaining, 'number', `${F}:151`);
      c.unit('percentRemaining', r.percentRemaining, null, `${F}:152`);
      META(c, r.meta, {dataAge: true, unitSystem: 'metric', line: `${F}:153-155`});
    });
    await step('Vehicle#tirePressure', `${F}:158-170`, () => volt.tirePressure(), (r, c) => {
      const keys = ['frontLeft', 'frontRight', 'backLeft', 'backRight'];
      c.keys(r, keys.concat(['meta']), `${F}:161-164`);
      keys.forEach((k) => c.type(k, r[k], 'number', `${F}:166`));
      META(c, r.meta, {dataAge: true, unitSystem: 'metric', line: `${F}:167-169`});
    });
    await step('Vehicle#engineOil', `${F}:172-185`, () => volt.engineOil(), (r, c) => {
      c.keys(r, ['lifeRemaining', 'meta'], `${F}:174-180`);
      c.unit('lifeRemaining', r.lifeRemaining, null, `${F}:182`);
      META(c, r.meta, {dataAge: true, line: `${F}:183-184`});
    });
    await step('Vehicle#odometer', `${F}:187-201`, () => volt.odometer(), (r, c) => {
      c.keys(r, ['distance', 'meta'], `${F}:189-195`);
      c.type('distance', r.distance, 'number', `${F}:197`);
      META(c, r.meta, {dataAge: true, unitSystem: 'metric', line: `${F}:198-200`});
      c.date('meta.fetchedAt', r.meta.fetchedAt, `${U}:211`);
    });
    await step('Vehicle#location', `${F}:203-218`, () => volt.location(), (r, c) => {
      c.keys(r, ['longitude', 'latitude', 'meta'], `${F}:205-211`);
      c.type('longitude', r.longitude, 'number', `${F}:214`);
      c.type('latitude', r.latitude, 'number', `${F}:215`);
      META(c, r.meta, {dataAge: true, line: `${F}:216-217`});
    });
    await step('Vehicle#attributes', `${F}:220-238`, () => volt.attributes(), (r, c) => {
      c.keys(r, ['make', 'model', 'year', 'id', 'meta'], `${F}:222-231`);
      c.len36('id', r.id, `${F}:233`);
      c.is('make (the brand chosen in Connect)', r.make, 'CHEVROLET', `${F}:234`);
      c.is('model (Smartcar\'s test-mode Chevrolet)', r.model, 'Volt', `${F}:235`, 'smartcar-data');
      c.type('year', r.year, 'number', `${F}:236`);
      META(c, r.meta, {line: `${F}:237`});
    });
    await step('Vehicle#permissions', `${F}:240-261`, () => volt.permissions(), (r, c) => {
      c.keys(r, ['permissions', 'meta', 'paging'], `${F}:242-249`);
      const got = (r.permissions || []).map((p) => `required:${p}`);
      c.add('permissions = the scope asked for', xor(got, DEFAULT_SCOPES).length === 0,
        DEFAULT_SCOPES.map((p) => p.replace('required:', '')), r.permissions, `${F}:251-257`);
      META(c, r.meta, {line: `${F}:258`});
      c.is('paging.offset', r.paging && r.paging.offset, 0, `${F}:259`);
      c.is('paging.count', r.paging && r.paging.count, 12, `${F}:260`);
    });
    await step('Vehicle#permissions {limit: 1}', `${U}:196-214`, () => volt.permissions({limit: 1}), (r, c) => {
      c.is('permissions.length', r.permissions.length, 1, `${U}:200,212`);
      META(c, r.meta, {line: `${U}:209`});
    });

    // webhooks: test/end-to-end/vehicle.js:263-315 (success skipped upstream, runs here with the emulator's ids)
    await step('Vehicle#subscribe', `${F}:263-277`, () => volt.subscribe(WEBHOOK_ID), (r, c) => {
      c.keys(r, ['webhookId', 'vehicleId', 'meta'], `${F}:267-274`);
      c.is('vehicleId', r.vehicleId, volt.id, `${F}:275`);
      c.is('webhookId', r.webhookId, WEBHOOK_ID, `${F}:276`);
      META(c, r.meta, {line: `${F}:277`});
    });
    await step('Vehicle#unsubscribe', `${F}:279-289`, () => volt.unsubscribe(AMT, WEBHOOK_ID), (r, c) => {
      c.keys(r, ['status', 'meta'], `${F}:280-286`);
      c.is('status', r.status, 'success', `${F}:288`);
      META(c, r.meta, {line: `${F}:289`});
    });
    await throws('Vehicle#subscribe (unknown webhook id)', `${F}:292-301`, () => volt.subscribe('webhookID'),
      (e, c) => {
        c.is('instanceof SmartcarError', e instanceof smartcar.SmartcarError, true);
        c.len36('requestId', e.requestId, `${F}:297`);
        c.is('statusCode', e.statusCode, 400, `${F}:298`);
        c.is('message', e.message, 'VALIDATION:null - Request invalid or malformed. Please check for missing'
          + ' parameters, spelling and casing mistakes, and other syntax issues.', `${F}:293-299`);
        c.is('type', e.type, 'VALIDATION', `${F}:300`);
      });
    await throws('Vehicle#unsubscribe (wrong AMT)', `${F}:303-315`, () => volt.unsubscribe('amt', 'webhookID'),
      (e, c) => {
        c.is('instanceof SmartcarError', e instanceof smartcar.SmartcarError, true);
        c.len36('requestId', e.requestId, `${F}:311`);
        c.is('statusCode', e.statusCode, 401, `${F}:312`);
        c.is('message', e.message, 'AUTHENTICATION:null - The authorization header is missing or malformed, or it'
          + ' contains invalid or expired authentication credentials. Please check for missing parameters,'
          + ' spelling and casing mistakes, and other syntax issues.', `${F}:304-313`);
        c.is('type', e.type, 'AUTHENTICATION', `${F}:314`);
      });
  }

  if (ford) {
    await step('Vehicle#lock', `${F}:317-331`, () => ford.lock(), actionExpect(`${F}:320-330`));
    await step('Vehicle#unlock', `${F}:333-347`, () => ford.unlock(), actionExpect(`${F}:336-346`));
    await step('Vehicle#lockStatus', `${F}:349-363`, () => ford.lockStatus(), (r, c) => {
      c.keys(r, lockStatusKeys, `${F}:351-362`);
      c.type('isLocked', r.isLocked, 'boolean', `${U}:531`);
      META(c, r.meta, {dataAge: true, line: `${U}:528-529`});
    });
    await step('Vehicle#startCharge', `${F}:365-379`, () => ford.startCharge(), actionExpect(`${F}:368-378`));
    await step('Vehicle#stopCharge', `${F}:381-394`, () => ford.stopCharge(), actionExpect(`${F}:383-393`));
    await step('Vehicle#batch [/security]', `${F}:430-448`, () => ford.batch(['/security']), (r, c) => {
      c.keys(r.lockStatus(), lockStatusKeys, `${F}:436-447`);
    });
    await step('Vehicle#serviceHistory (2023-05-20 .. 2024-02-10)', `${F}:645-650`,
      () => ford.serviceHistory('2023-05-20', '2024-02-10'), (r, c) => {
        c.truthy('data is an array', Array.isArray(r.data), r.data, 'an array (the body is a JSON array)',
          `${F}:649`);
        (r.data || []).forEach((s, i) => {
          c.truthy(`data[${i}] in range`, s.serviceDate >= '2023-05-20' && s.serviceDate < '2024-02-11',
            s.serviceDate, 'a date from 2023-05-20 to 2024-02-10', `${C}:89-140`);
          c.truthy(`data[${i}].serviceTasks`, Array.isArray(s.serviceTasks), s.serviceTasks, 'an array',
            `${C}:94-116`);
        });
        META(c, r.meta, {line: `${C}:137`});
      });
    await step('Vehicle#sendDestination', `${F}:652-660`, () => ford.sendDestination(37.7749, -122.4194), (r, c) => {
      c.is('status', r.status, 'success', `${F}:659`);
      c.is('message', r.message, SUCCESS_MESSAGE, `${C}:165-166`);
      META(c, r.meta, {line: `${C}:167`});
    });
    await step('Vehicle#sendDestination (invalid coordinates: four client-side errors)', `${F}:662-687`, async() => {
      const out = [];
      for (const {lat, lon} of [{lat: 100, lon: -122.4194}, {lat: -91, lon: -122.4194},
        {lat: 37.7749, lon: 200}, {lat: 37.7749, lon: -181}]) {
        try {
          // eslint-disable-next-line no-await-in-loop
          await ford.sendDestination(lat, lon);
          out.push({lat, lon, message: null});
        } catch (e) {
          out.push({lat, lon, message: e.message});
        }
      }
      return out;
    }, (r, c) => r.forEach(({lat, lon, message}) => c.is(`(${lat}, ${lon})`, message,
      lat < -90 || lat > 90 ? 'Invalid latitude value. It must be between -90 and 90.'
        : 'Invalid longitude value. It must be between -180 and 180.', `${F}:679-685`)));
  }

  if (volt) {
    await step('Vehicle#batch [/odometer, /location]', `${F}:396-428`, () => volt.batch(['/odometer', '/location']),
      (r, c) => {
        const odometer = r.odometer();
        c.keys(odometer, ['distance', 'meta'], `${F}:400-406`);
        c.type('odometer.distance', odometer.distance, 'number', `${F}:408`);
        c.date('odometer.meta.dataAge', odometer.meta.dataAge, `${F}:409`);
        c.len36('odometer.meta.requestId', odometer.meta.requestId, `${F}:410`);
        c.is('odometer.meta.unitSystem', odometer.meta.unitSystem, 'metric', `${F}:411`);
        const location = r.location();
        c.keys(location, ['longitude', 'latitude', 'meta'], `${F}:415-421`);
        c.type('location.longitude', location.longitude, 'number', `${F}:424`);
        c.type('location.latitude', location.latitude, 'number', `${F}:425`);
        c.date('location.meta.dataAge', location.meta.dataAge, `${F}:426`);
        c.len36('location.meta.requestId', location.meta.requestId, `${F}:427`);
      });
    // test/unit/lib/vehicle.js:216-354: method names from paths ('/' → attributes, tires/pressure without slash)
    await step('Vehicle#batch [/, /odometer, /engine/oil, tires/pressure, /diagnostics/dtcs]', `${U}:216-354`,
      () => volt.batch(['/', '/odometer', '/engine/oil', 'tires/pressure', '/diagnostics/dtcs']), (r, c) => {
        c.keys(r, ['attributes', 'odometer', 'engineOil', 'tirePressure', 'diagnosticTroubleCodes'], `${U}:316-348`,
          'methods of the batch answer');
        const o = r.odometer && r.odometer();
        c.type('odometer().distance', o && o.distance, 'number', `${U}:317`);
        c.len36('odometer().meta.requestId', o && o.meta.requestId, `${U}:318`);
        c.is('odometer().meta.unitSystem', o && o.meta.unitSystem, 'metric', `${U}:319`);
        c.date('odometer().meta.dataAge', o && o.meta.dataAge, `${U}:320`);
        c.date('odometer().meta.fetchedAt', o && o.meta.fetchedAt, `${U}:321`);
        const a = r.attributes && r.attributes();
        c.type('attributes().make', a && a.make, 'string', `${U}:324`);
        c.type('attributes().year', a && a.year, 'number', `${U}:326`);
        c.len36('attributes().meta.requestId', a && a.meta.requestId, `${U}:327`);
        c.is('attributes().meta.unitSystem', a && a.meta.unitSystem, 'metric', `${U}:328`);
        const t = r.tirePressure && r.tirePressure();
        c.type('tirePressure().backLeft', t && t.backLeft, 'number', `${U}:339`);
      });
    await step('Vehicle#batch [/diagnostics/dtcs]', `${F}:593-606`, () => volt.batch(['/diagnostics/dtcs']),
      (r, c) => c.keys(r.diagnosticTroubleCodes(), ['activeCodes', 'meta'], `${F}:598-605`));
    await step('Vehicle#batch [/diagnostics/system_status]', `${F}:630-643`,
      () => volt.batch(['/diagnostics/system_status']),
      (r, c) => c.keys(r.diagnosticSystemStatus(), ['systems', 'meta'], `${F}:635-642`));

    await step('Vehicle#request (get odometer, sc-unit-system imperial)', `${F}:450-472`,
      () => volt.request('get', 'odometer', null, {'sc-unit-system': 'imperial'}), (r, c) => {
        c.keys(r, ['body', 'meta'], `${F}:460-466`);
        c.type('body.distance', r.body.distance, 'number', `${F}:468`);
        META(c, r.meta, {dataAge: true, unitSystem: 'imperial', line: `${F}:469-471`});
      });
    await step('Vehicle#request (post batch)', `${F}:474-511`, () => volt.request('post', 'batch', {
      requests: [{path: '/odometer'}, {path: '/tires/pressure'}],
    }), (r, c) => {
      c.keys(r, ['body', 'meta'], `${F}:482-488`);
      c.len36('meta.requestId', r.meta.requestId, `${F}:490`);
      const [o, t] = (r.body && r.body.responses) || [];
      c.is('responses[0].path', o && o.path, '/odometer', `${F}:492`);
      c.is('responses[0].code', o && o.code, 200, `${F}:493`);
      c.is('responses[0].headers[sc-unit-system]', o && o.headers && o.headers['sc-unit-system'], 'metric', `${F}:494`);
      c.truthy('responses[0].headers[sc-data-age]', o && o.headers && !isNaN(new Date(o.headers['sc-data-age'])),
        o && o.headers, 'a date', `${F}:495-497`);
      c.type('responses[0].body.distance', o && o.body && o.body.distance, 'number', `${F}:498`);
      c.is('responses[1].path', t && t.path, '/tires/pressure', `${F}:500`);
      c.is('responses[1].code', t && t.code, 200, `${F}:501`);
      c.is('responses[1].headers[sc-unit-system]', t && t.headers && t.headers['sc-unit-system'], 'metric', `${F}:502`);
      c.truthy('responses[1].headers[sc-data-age]', t && t.headers && !isNaN(new Date(t.headers['sc-data-age'])),
        t && t.headers, 'a date', `${F}:503-505`);
      for (const k of ['frontLeft', 'frontRight', 'backLeft', 'backRight']) {
        c.type(`responses[1].body.${k}`, t && t.body && t.body[k], 'number', `${F}:506-509`);
      }
    });
    const AUTH_DESCRIPTION = 'The authorization header is missing or malformed, or it contains invalid or expired'
      + ' authentication credentials. Please check for missing parameters, spelling and casing mistakes, and other'
      + ' syntax issues.';
    const authError = (line) => (e, c) => {
      c.is('instanceof SmartcarError', e instanceof smartcar.SmartcarError, true);
      c.is('statusCode', e.statusCode, 401, `${F}:${line[0]}`);
      c.is('type', e.type, 'AUTHENTICATION', `${F}:${line[1]}`);
      c.is('description', e.description, AUTH_DESCRIPTION, `${F}:${line[2]}`);
      c.is('docURL', e.docURL, 'https://smartcar.com/docs/errors/api-errors/authentication-errors#null',
        `${F}:${line[3]}`);
    };
    await throws('Vehicle service.request (override auth: Basic)', `${F}:513-535`,
      () => volt.service.request('get', 'odometer', null,
        {headers: {Authorization: `Basic ${Buffer.from('abc:def').toString('base64')}`}}),
      authError([530, 531, 532, 533]));
    await throws('Vehicle#request (override auth header: Bearer abc)', `${F}:537-556`,
      () => volt.request('get', 'odometer', null, {'sc-unit-system': 'imperial', Authorization: 'Bearer abc'}),
      authError([551, 552, 553, 554]));
    await step('Vehicle#request (get, non-SDK headers override)', `${U}:387-410`,
      () => volt.request('get', 'odometer', undefined, {'User-Agent': 'monkeys_on_mars', Origin: 'monkeys_on_pluto'}),
      (r, c) => {
        c.type('body.distance', r.body.distance, 'number', `${U}:406`);
        META(c, r.meta, {dataAge: true, line: `${U}:407-408`});
        c.date('meta.fetchedAt', r.meta.fetchedAt, `${U}:409`);
      });

    await step('Vehicle#diagnosticTroubleCodes', `${F}:572-591`, () => volt.diagnosticTroubleCodes(), (r, c) => {
      c.keys(r, ['activeCodes', 'meta'], `${F}:575-581`);
      (r.activeCodes || []).forEach((x, i) => {
        c.type(`activeCodes[${i}].code`, x.code, 'string', `${F}:584`);
        c.truthy(`activeCodes[${i}].timestamp`, x.timestamp === null || !isNaN(new Date(x.timestamp)), x.timestamp,
          'null or a date', `${F}:585-586`);
      });
      META(c, r.meta, {dataAge: true, line: `${F}:589-590`});
    });
    await step('Vehicle#diagnosticSystemStatus', `${F}:608-628`, () => volt.diagnosticSystemStatus(), (r, c) => {
      c.keys(r, ['systems', 'meta'], `${F}:611-617`);
      (r.systems || []).forEach((s, i) => {
        c.type(`systems[${i}].systemId`, s.systemId, 'string', `${F}:620`);
        c.truthy(`systems[${i}].status`, ['OK', 'ALERT'].includes(s.status), s.status, 'OK or ALERT', `${F}:621`);
        c.truthy(`systems[${i}].description`, s.description === null || typeof s.description === 'string',
          s.description, 'null or a string', `${F}:622-623`);
      });
      META(c, r.meta, {dataAge: true, line: `${F}:626-627`});
    });

    // v3: test/end-to-end/vehicle.js:689-706 (upstream: a fixed test vehicle and token; here Connect's)
    await step('Vehicle#getSignals (v3)', `${F}:689-696`, () => volt.getSignals(), (r, c) => {
      c.keys(r, ['body', 'headers'], `${F}:691`);
      const first = r.body.data && r.body.data[0];
      c.is('body.data[0].attributes.status.value', first && first.attributes && first.attributes.status
        && first.attributes.status.value, 'SUCCESS', `${F}:693`);
      c.is('body.data[0].type', first && first.type, 'signal', `${U}:19`);
      c.type('body.data[0].attributes.code', first && first.attributes && first.attributes.code, 'string', `${U}:21`);
      c.truthy('body.links', r.body.links && 'next' in r.body.links, r.body.links, 'JSON:API paging links',
        `${U}:48-54`);
      c.len36('headers[sc-request-id]', r.headers['sc-request-id'], 'lib/smartcar-service.js (apiVersion 3)');
    });
    await step('Vehicle#getSignal (v3, odometer-traveleddistance)', `${F}:698-706`,
      () => volt.getSignal('odometer-traveleddistance'), (r, c) => {
        c.is('body.attributes.status.value', r.body.attributes && r.body.attributes.status
          && r.body.attributes.status.value, 'SUCCESS', `${F}:703`);
        c.is('body.attributes.code', r.body.attributes && r.body.attributes.code, 'odometer-traveleddistance',
          `${U}:75`);
        c.type('body.attributes.body.value', r.body.attributes && r.body.attributes.body
          && r.body.attributes.body.value, 'number', `${U}:81-84`);
      });

    // Vehicle options: test/unit/lib/vehicle.js:133-165
    await step('new Vehicle {unitSystem: imperial, flags} + odometer', `${U}:133-165`, () => new smartcar.Vehicle(
      volt.id, volt.token, {unitSystem: 'imperial', flags: {country: 'DE', flag: 'suboption'}}).odometer(),
    (r, c) => {
      c.type('distance', r.distance, 'number', `${F}:197`);
      META(c, r.meta, {dataAge: true, unitSystem: 'imperial', line: `${U}:133-150`});
    });
    await step('new Vehicle {version: 1.0} + odometer', `${E2E}/util.js:9-20`,
      () => new smartcar.Vehicle(volt.id, volt.token, {version: '1.0'}).odometer(), (r, c) => {
        c.type('distance', r.distance, 'number', `${F}:197`);
        META(c, r.meta, {line: `${F}:199`});
      });

    // Timeouts: test/unit/index.js:504-540 (the emulator's latency fault in place of a delayed mock)
    const faults = await admin('GET', 'faults');
    if (faults.body && faults.body.enabled) {
      const timeoutExpect = (line) => (e, c) => {
        c.is('instanceof SmartcarError', e instanceof smartcar.SmartcarError, true, `${UNIT}/index.js:${line[0]}`);
        c.is('message', e.message, 'Request timed out', `${UNIT}/index.js:${line[1]}`);
        c.is('statusCode', e.statusCode, 408, `${UNIT}/index.js:${line[2]}`);
      };
      const slow = () => new SmartcarService({
        baseUrl: `${origin}/v2.0/vehicles/${volt.id}`,
        timeout: 100,
        headers: {Authorization: `Bearer ${volt.token}`, 'sc-emulator-fault': 'latency:1500'},
      });
      await throws('SmartcarService#request (timeout)', `${UNIT}/index.js:504-519`,
        () => slow().request('get', 'odometer'), timeoutExpect([515, 517, 518]));
      await throws('SmartcarService#batchRequest (timeout)', `${UNIT}/index.js:522-540`,
        () => slow().batchRequest(['/odometer']), timeoutExpect([535, 538, 539]));
    } else {
      skip('SmartcarService#request (timeout)', `${UNIT}/index.js:504-540`, 'the emulator runs without --faults');
    }
  }

  if (kia) {
    await step('Vehicle#getChargeLimit', `${F}:558-562`, () => kia.getChargeLimit(), (r, c) => {
      c.type('limit', r.limit, 'number', `${F}:561`);
      META(c, r.meta, {line: `${U}:443`});
    });
    await step('Vehicle#setChargeLimit (0.9)', `${F}:564-568`, () => kia.setChargeLimit(0.9), (r, c) => {
      c.is('status', r.status, 'success', `${F}:567`);
      META(c, r.meta, {line: `${U}:493`});
    });
    // test/unit/lib/vehicle.js:216-354 (an item failing inside a 200 batch throws when read)
    await step('Vehicle#batch [/charge, /odometer] (odometer not permitted)', `${U}:216-354`,
      () => kia.batch(['/charge', '/odometer']), (r, c) => {
        const charge = r.charge();
        c.type('charge().isPluggedIn', charge.isPluggedIn, 'boolean', `${F}:82`);
        c.len36('charge().meta.requestId', charge.meta.requestId, `${U}:318`);
        let err = null;
        try {
          r.odometer();
        } catch (e) {
          err = e;
        }
        c.is('odometer() throws a SmartcarError', err instanceof smartcar.SmartcarError, true, `${U}:334`);
        c.is('odometer() error type', err && err.type, 'PERMISSION', `${U}:336`);
        c.is('odometer() error message', err && err.message, `PERMISSION:null - ${PERMISSION_DESCRIPTION}`,
          `${E2E}/util.js:101`);
      });
    // test/end-to-end/vehicle.js:709-721 (test.after.always)
    await step('Vehicle#disconnect', `${F}:709-721`, () => kia.disconnect(), (r, c) => {
      c.keys(r, ['status', 'meta'], `${F}:711-717`);
      c.is('status', r.status, 'success', `${F}:719`);
      META(c, r.meta, {line: `${F}:720`});
    });
  }
}

const PERMISSION_DESCRIPTION = 'Your application has insufficient permissions to access the requested resource.'
  + ' Please prompt the user to re-authenticate using Smartcar Connect.';

// test/end-to-end/util.js (skipped upstream because of their test account; the emulator has these emails)
async function errorCalls() {
  const F = `${E2E}/util.js`;
  const getVehicleObject = async(email, version = '') => {
    const client = new smartcar.AuthClient(authClientParams());
    const code = getCodeFromUri(await runAuthFlow(
      client.getAuthUrl(['read_odometer'], {forcePrompt: true}), 'CHEVROLET', email));
    const {accessToken} = await client.exchangeCode(code);
    const {vehicles} = await smartcar.getVehicles(accessToken);
    return new smartcar.Vehicle(vehicles[0], accessToken, {version});
  };
  const common = (e, c, status, line) => {
    c.is('instanceof SmartcarError', e instanceof smartcar.SmartcarError, true, `${F}:${line}`);
    c.is('statusCode', e.statusCode, status, `${F}:${line + 1}`);
  };

  let description = 'The vehicle was unable to perform your request due to an unknown issue.';
  await throws('Vehicle#odometer (VEHICLE_STATE.UNKNOWN@smartcar.com)', `${F}:25-43`,
    async() => (await getVehicleObject('VEHICLE_STATE.UNKNOWN@smartcar.com')).odometer(), (e, c) => {
      common(e, c, 409, 34);
      c.is('resolution.type', e.resolution && e.resolution.type, 'RETRY_LATER', `${F}:36`);
      c.is('docURL', e.docURL, 'https://smartcar.com/docs/errors/api-errors/vehicle-state-errors#unknown', `${F}:37`);
      c.is('description', e.description, description, `${F}:38`);
      c.is('type', e.type, 'VEHICLE_STATE', `${F}:39`);
      c.is('code', e.code, 'UNKNOWN', `${F}:40`);
      c.len36('requestId', e.requestId, `${F}:41`);
      c.is('message', e.message, `VEHICLE_STATE:UNKNOWN - ${description}`, `${F}:42`);
    });

  description = 'This vehicle is no longer associated with the user\'s connected services account. Please prompt'
    + ' the user to re-add the vehicle to their account.';
  await throws('Vehicle#odometer (CONNECTED_SERVICES_ACCOUNT.VEHICLE_MISSING@smartcar.com)', `${F}:45-66`,
    async() => (await getVehicleObject('CONNECTED_SERVICES_ACCOUNT.VEHICLE_MISSING@smartcar.com')).odometer(),
    (e, c) => {
      common(e, c, 400, 55);
      c.is('resolution.type', e.resolution && e.resolution.type, null, `${F}:57`);
      c.is('docURL', e.docURL,
        'https://smartcar.com/docs/errors/api-errors/connected-services-account-errors#vehicle-missing', `${F}:58`);
      c.is('description', e.description, description, `${F}:59`);
      c.is('type', e.type, 'CONNECTED_SERVICES_ACCOUNT', `${F}:60`);
      c.is('code', e.code, 'VEHICLE_MISSING', `${F}:61`);
      c.len36('requestId', e.requestId, `${F}:62`);
      c.is('message', e.message, `CONNECTED_SERVICES_ACCOUNT:VEHICLE_MISSING - ${description}`, `${F}:63-65`);
    });

  await throws('Vehicle#odometer v1.0 (smartcar@vs-000.vehicle-state-error.com)', `${F}:68-83`,
    async() => (await getVehicleObject('smartcar@vs-000.vehicle-state-error.com', '1.0')).odometer(), (e, c) => {
      common(e, c, 409, 75);
      c.is('type', e.type, 'vehicle_state_error', `${F}:77`);
      c.is('code', e.code, 'VS_000', `${F}:78`);
      c.len36('requestId', e.requestId, `${F}:79`);
      c.is('message', e.message, 'vehicle_state_error:VS_000 - Vehicle state cannot be determined.', `${F}:80-82`);
    });

  await throws('Vehicle#location (scope read_odometer only)', `${F}:85-102`,
    async() => (await getVehicleObject()).location(), (e, c) => {
      common(e, c, 403, 93);
      c.is('resolution.type', e.resolution && e.resolution.type, 'REAUTHENTICATE', `${F}:95`);
      c.is('docURL', e.docURL, 'https://smartcar.com/docs/errors/api-errors/permission-errors#null', `${F}:96`);
      c.is('description', e.description, PERMISSION_DESCRIPTION, `${F}:97`);
      c.is('type', e.type, 'PERMISSION', `${F}:98`);
      c.is('code', e.code, undefined, `${F}:99`);
      c.len36('requestId', e.requestId, `${F}:100`);
      c.is('message', e.message, `PERMISSION:null - ${PERMISSION_DESCRIPTION}`, `${F}:101`);
    });

  // test/unit/lib/vehicle.js:412-428: retry-after and suggestedUserMessage on a 429
  await throws('Vehicle#odometer (RATE_LIMIT.VEHICLE@smartcar.com)', `${UNIT}/lib/vehicle.js:412-428`,
    async() => (await getVehicleObject('RATE_LIMIT.VEHICLE@smartcar.com')).odometer(), (e, c) => {
      c.is('instanceof SmartcarError', e instanceof smartcar.SmartcarError, true);
      c.is('statusCode', e.statusCode, 429);
      c.is('type', e.type, 'RATE_LIMIT');
      c.is('code', e.code, 'VEHICLE');
      c.is('retryAfter (the retry-after header, a string)', e.retryAfter, '30', `${UNIT}/lib/vehicle.js:426`);
      c.type('suggestedUserMessage', e.suggestedUserMessage, 'string', `${UNIT}/lib/vehicle.js:427`);
    });
}

(async() => {
  emit({call: 'sdk', source: 'package.json', ok: /^10\.4\./.test(sdkVersion), error: null,
    checks: [{what: 'version', pass: /^10\.4\./.test(sdkVersion), expected: '10.4.x', got: sdkVersion,
      source: 'package.json', kind: 'sdk'}]});
  for (const part of [authClientCalls, moduleCalls, vehicleCalls, errorCalls]) {
    try {
      // eslint-disable-next-line no-await-in-loop
      await part();
    } catch (e) {
      emit({call: `${part.name} (aborted)`, source: 'calls.js', ok: false, error: errorInfo(e), checks: []});
    }
  }
  const surface = MODULE_FUNCTIONS.concat(VEHICLE_METHODS.map((m) => `Vehicle#${m}`),
    AUTH_METHODS.map((m) => `AuthClient#${m}`));
  const missing = surface.filter((n) => !called.has(n));
  emit({call: 'coverage', source: 'index.js, lib/vehicle.js, lib/auth-client.js', ok: missing.length === 0,
    error: null, surface, checks: [{what: 'every exported function and method called', pass: missing.length === 0,
      expected: 'none left', got: missing, source: 'calls.js', kind: 'sdk'}]});
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
