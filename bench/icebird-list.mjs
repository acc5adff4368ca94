// icebird-list.mjs: list the live data files of a table's current snapshot
// with icebird (npm), the reference for bench/run measurement 1b.
//   node --max-old-space-size=8192 bench/icebird-list.mjs TABLE_DIR
// icebird fetches URLs; local files are read with fs and handed to its Avro
// reader, the way icebergManifests() does after fetch (all manifests in
// parallel, every entry in memory). Prints {"live":N,"entries":N}.
import { readFile } from 'node:fs/promises'
import { avroMetadata, avroRead } from 'icebird'

async function records(path) {
  const local = path.replace(/^file:(\/\/)?/, '')
  const buf = await readFile(local)
  const reader = { view: new DataView(buf.buffer, buf.byteOffset, buf.byteLength), offset: 0 }
  const { metadata, syncMarker } = await avroMetadata(reader)
  return avroRead({ reader, metadata, syncMarker })
}

const dir = process.argv[2]
const hint = (await readFile(`${dir}/metadata/version-hint.text`, 'utf8')).trim()
const meta = JSON.parse(await readFile(`${dir}/metadata/v${hint}.metadata.json`, 'utf8'))
const snap = meta.snapshots.find(s => BigInt(s['snapshot-id']) === BigInt(meta['current-snapshot-id']))
const manifests = await records(snap['manifest-list'])
const lists = await Promise.all(manifests.map(m => records(m.manifest_path)))
let live = 0, entries = 0
for (const list of lists) {
  for (const e of list) {
    entries++
    if (e.status !== 2) live++
  }
}
console.log(JSON.stringify({ live, entries }))
