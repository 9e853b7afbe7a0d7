// After `vite build`: gzip every text asset beside itself (the service sends the .gz to
// clients that accept it) and report what the studio's first load costs in JavaScript: the
// entry script of index.html and the chunks it preloads, gzipped. Fails the build above the
// 250 kB budget, so a heavy import on the first screen is caught in CI.
import { readdirSync, readFileSync, writeFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

const dist = new URL("../dist/", import.meta.url).pathname;
const assets = join(dist, "assets");
const BUDGET = 250 * 1024;

for (const name of readdirSync(assets)) {
  if (!/\.(js|css|svg|json|map|ttf|woff)$/.test(name)) continue;
  const path = join(assets, name);
  writeFileSync(`${path}.gz`, gzipSync(readFileSync(path), { level: 9 }));
}

const html = readFileSync(join(dist, "index.html"), "utf8");
const scripts = [...html.matchAll(/(?:src|href)="\/assets\/([^"]+\.js)"/g)].map((m) => m[1]);
let total = 0;
for (const name of new Set(scripts)) total += statSync(join(assets, `${name}.gz`)).size;
const kb = (total / 1024).toFixed(1);
console.log(`first-load JavaScript of / (gzipped): ${kb} kB in ${new Set(scripts).size} files (budget 250 kB)`);
writeFileSync(join(dist, "first-load.json"), JSON.stringify({ gzipBytes: total, files: [...new Set(scripts)] }));
if (total > BUDGET) {
  console.error(`over budget: ${kb} kB > 250 kB`);
  process.exit(1);
}
