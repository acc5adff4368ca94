// s3rver-start.js: the local S3 server of the storage tests.
// Usage: node --openssl-legacy-provider s3rver-start.js DIRECTORY PORTFILE BUCKET...
// Serves DIRECTORY on 127.0.0.1 at a port the system picks, creates the
// buckets, and writes the port to PORTFILE once it listens.
'use strict';
const fs = require('fs');
const path = require('path');
const S3rver = require(path.join(__dirname, 'node_modules', 's3rver'));

const [dir, portFile, ...buckets] = process.argv.slice(2);
const server = new S3rver({
  address: '127.0.0.1',
  port: 0,
  silent: true,
  directory: dir,
  configureBuckets: buckets.map((name) => ({ name })),
});
server.run().then(({ port }) => {
  fs.writeFileSync(portFile + '.tmp', String(port));
  fs.renameSync(portFile + '.tmp', portFile);
}, (e) => {
  console.error('s3rver-start: ' + e.message);
  process.exit(1);
});
