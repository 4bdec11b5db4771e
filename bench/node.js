// The official Node SDK doing the same: N sequential odometer reads, then the same
// vehicles read at concurrency 64. Prints "<req/s> <CPU µs per request>" per line.
const smartcar = require('smartcar');
const [origin, token, id, nArg, ids] = process.argv.slice(2);
process.env.SMARTCAR_API_ORIGIN = origin;
const n = Number(nArg);
(async () => {
  const v = new smartcar.Vehicle(id, token);
  await v.odometer();
  let t0 = process.hrtime.bigint(); let c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) await v.odometer();
  let wall = Number(process.hrtime.bigint() - t0) / 1e9; let c = process.cpuUsage(c0);
  console.log(`${(n / wall).toFixed(0)} ${((c.user + c.system) / n).toFixed(1)}`);
  const vehicles = ids.split(',').map((x) => new smartcar.Vehicle(x, token));
  const rounds = Math.max(1, Math.floor(n / vehicles.length));
  t0 = process.hrtime.bigint(); c0 = process.cpuUsage();
  for (let r = 0; r < rounds; r++) await Promise.all(vehicles.map((x) => x.odometer()));
  wall = Number(process.hrtime.bigint() - t0) / 1e9; c = process.cpuUsage(c0);
  const total = rounds * vehicles.length;
  console.log(`${(total / wall).toFixed(0)} ${((c.user + c.system) / total).toFixed(1)}`);
  console.log(`rss ${(process.memoryUsage().rss / 1048576).toFixed(0)}`);
})().catch((e) => { console.error(e); process.exit(1); });
