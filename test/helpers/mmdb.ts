// A minimal MaxMind DB (.mmdb) writer for tests, from the format's published specification
// (https://maxmind.github.io/MaxMind-DB/): an IPv4 search tree with 24-bit records, a data section
// of maps, strings and unsigned integers, and the metadata map. Enough to stand in for a user's
// GeoLite2 or DB-IP file, whose real copies cannot ship in the repository.

type Value = string | number | Value[] | { [key: string]: Value }

function control (type: number, size: number): Buffer {
  if (size >= 29) throw new Error('sizes of 29 and more are not needed by these tests')
  // Types above 7 are "extended": type 0 in the control byte, then the type minus 7.
  return type <= 7 ? Buffer.from([(type << 5) | size]) : Buffer.from([size, type - 7])
}

function unsigned (value: number): Buffer {
  const bytes: number[] = []
  for (let rest = value; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256)
  return Buffer.from(bytes)
}

function encode (value: Value): Buffer {
  if (typeof value === 'string') {
    const text = Buffer.from(value, 'utf8')
    return Buffer.concat([control(2, text.length), text])
  }
  if (typeof value === 'number') {
    const bytes = unsigned(value)
    return Buffer.concat([control(value <= 0xffff ? 5 : 6, bytes.length), bytes]) // uint16 / uint32
  }
  if (Array.isArray(value)) return Buffer.concat([control(11, value.length), ...value.map(encode)])
  const entries = Object.entries(value)
  return Buffer.concat([control(7, entries.length), ...entries.flatMap(([key, item]) => [encode(key), encode(item)])])
}

/** An IPv4 database holding one record per network (`['81.2.69.0', 24, { country: { iso_code: 'GB' } }]`). */
export function writeMmdb (databaseType: string, networks: Array<[string, number, Value]>): Buffer {
  const data: Buffer[] = []
  let dataLength = 0
  const nodes: Array<[Record | undefined, Record | undefined]> = [[undefined, undefined]]
  type Record = { node: number } | { data: number }
  for (const [address, prefix, record] of networks) {
    const offset = dataLength
    const encoded = encode(record)
    data.push(encoded)
    dataLength += encoded.length
    const bits = address.split('.').reduce((sum, octet) => sum * 256 + Number(octet), 0)
    let node = 0
    for (let depth = 0; depth < prefix; depth++) {
      const side = Math.floor(bits / 2 ** (31 - depth)) % 2
      if (depth === prefix - 1) {
        nodes[node][side] = { data: offset }
      } else {
        let next = nodes[node][side]
        if (next === undefined || !('node' in next)) {
          nodes.push([undefined, undefined])
          next = { node: nodes.length - 1 }
          nodes[node][side] = next
        }
        node = next.node
      }
    }
  }
  const count = nodes.length
  const tree = Buffer.alloc(count * 6)
  nodes.forEach((records, index) => {
    records.forEach((record, side) => {
      // A record is a node number, the node count for "no data", or node count + 16 + data offset.
      const value = record === undefined ? count : 'node' in record ? record.node : count + 16 + record.data
      tree.writeUIntBE(value, index * 6 + side * 3, 3)
    })
  })
  const metadata = encode({
    node_count: count,
    record_size: 24,
    ip_version: 4,
    database_type: databaseType,
    languages: ['en'],
    binary_format_major_version: 2,
    binary_format_minor_version: 0,
    build_epoch: 1_700_000_000,
    description: { en: 'test database' }
  })
  return Buffer.concat([tree, Buffer.alloc(16), ...data, Buffer.from('abcdef4d61784d696e642e636f6d', 'hex'), metadata])
}
