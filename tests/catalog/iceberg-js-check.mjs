// iceberg-js-check: an independent REST client (iceberg-js) against the
// catalog test server. Prints every namespace and table it finds (all
// pages), "TABLE METADATA_LOCATION" for each table it loads, and for each
// table whether a second load with the ETag was answered 304 (iceberg-js
// returns null then): "TABLE 304" or "TABLE 200".
// Usage: node iceberg-js-check.mjs URL WAREHOUSE TOKEN
import { IcebergRestCatalog } from 'iceberg-js';

const [url, warehouse, token] = process.argv.slice(2);
const catalog = new IcebergRestCatalog({
  baseUrl: url,
  warehouse,
  auth: { type: 'bearer', token },
  accessDelegation: ['vended-credentials'],
});

async function allPages(list) {
  const out = [];
  let pageToken;
  for (;;) {
    const page = await list(pageToken);
    out.push(...(page.namespaces || page.identifiers));
    if (!page.nextPageToken) return out;
    pageToken = page.nextPageToken;
  }
}

async function walk(parent, tables) {
  const nss = await allPages((pageToken) =>
    catalog.listNamespaces({ ...(parent ? { parent } : {}), pageToken: pageToken ?? '' }));
  for (const ns of nss) {
    console.log('namespace ' + ns.namespace.join('.'));
    const ids = await allPages((pageToken) => catalog.listTables(ns, { pageToken: pageToken ?? '' }));
    tables.push(...ids);
    await walk(ns, tables);
  }
}

const tables = [];
await walk(null, tables);
for (const id of tables) {
  const name = [...id.namespace, id.name].join('.');
  const t = await catalog.loadTableResult(id);
  console.log('table ' + name + ' ' + t['metadata-location']);
  const again = await catalog.loadTableResult(id, { ifNoneMatch: t.etag });
  console.log('reload ' + name + ' ' + (again === null ? '304' : '200'));
}
