#!/usr/bin/env node
// kubectl-datapath launcher for platforms without a single executable: runs the bundle next to
// it (kubectl-datapath.mjs, which loads lib/ as needed) with the Node.js on PATH, which must be
// version 20 or later. Written to run as CommonJS or as an ES module and on old Node.js versions,
// so that whatever the PATH offers, the user gets this message rather than a syntax error.
var major = Number(process.versions.node.split('.')[0]);
if (major < 20) {
  process.stderr.write('kubectl-datapath needs Node.js 20 or later; the node on PATH is ' + process.version + ' (install Node.js 20+ and retry)\n');
  process.exit(1);
}
Promise.all([import('node:fs'), import('node:path'), import('node:url')])
  .then(function (m) {
    var here = m[1].dirname(m[0].realpathSync(process.argv[1]));
    return import(m[2].pathToFileURL(m[1].join(here, 'kubectl-datapath.mjs')).href);
  })
  .catch(function (err) {
    process.stderr.write('kubectl-datapath: cannot start: ' + (err && err.message ? err.message : err) + '\n');
    process.exit(1);
  });
