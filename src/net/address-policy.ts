import {BlockList, isIP} from 'node:net'

/**
 * Which addresses an outbound request may reach. A channel's URL comes from whoever set the
 * channel up, and synthex runs inside the network: without a rule, a URL could make it post
 * (a routing key, an API key, a signed body) to the cloud metadata service, a database port
 * or an admin interface on the same host. Loopback, private, link-local, unspecified,
 * multicast, reserved and metadata addresses are refused unless `allowPrivateNetwork`; plain
 * http:// is refused unless `allowHttp`.
 */
export interface NetworkPolicy {
  /** Plain http:// is allowed (a URL's secret and the body travel unencrypted). */
  readonly allowHttp: boolean
  /** Addresses inside the network (loopback, private, link-local, metadata...) may be reached. */
  readonly allowPrivateNetwork: boolean
}

/** What provider requests get unless a channel opts out explicitly. */
export const STRICT_POLICY: NetworkPolicy = {allowHttp: false, allowPrivateNetwork: false}

/** For the operator's own services (a Pushgateway), which live inside the network. */
export const INTERNAL_POLICY: NetworkPolicy = {allowHttp: true, allowPrivateNetwork: true}

type Range = readonly [label: string, ...subnets: string[]]

/** Checked in order: the first range an address is in names it. */
const RANGES: readonly Range[] = [
  ['unspecified', '0.0.0.0/8', '::/128'],
  ['loopback', '127.0.0.0/8', '::1/128'],
  ['link-local', '169.254.0.0/16', 'fe80::/10'],
  // RFC 1918, CGNAT (RFC 6598), unique local (fc00::/7) and the deprecated site-local fec0::/10.
  ['private', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', 'fc00::/7', 'fec0::/10', '64:ff9b:1::/48'],
  ['multicast', '224.0.0.0/4', 'ff00::/8'],
  // IETF protocol assignments, benchmarking, class E and broadcast, IPv6 discard-only, and
  // IPv4-compatible IPv6 (deprecated: nothing legitimate lives there).
  ['reserved', '192.0.0.0/24', '198.18.0.0/15', '240.0.0.0/4', '100::/64', '::/96'],
]

/** Instance metadata services (AWS, GCP, Azure, ECS, Alibaba): credentials for the asking. */
const METADATA = new Set(['169.254.169.254', '169.254.170.2', '100.100.100.200', 'fd00:ec2::254'])

const LISTS = RANGES.map(([label, ...subnets]) => {
  const list = new BlockList()
  for (const subnet of subnets) {
    const [network = '', prefix = ''] = subnet.split('/')
    list.addSubnet(network, Number(prefix), isIP(network) === 6 ? 'ipv6' : 'ipv4')
  }

  return {label, list}
})

/**
 * Why an IP address may not be reached ("loopback", "link-local/metadata", ...), or
 * undefined for a public address. IPv6 forms that carry an IPv4 address (IPv4-mapped
 * `::ffff:a.b.c.d`, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`) are judged by that address.
 */
export function addressRange(address: string): string | undefined {
  const ip = address.replace(/^\[|\]$/g, '').split('%')[0] ?? ''
  const family = isIP(ip)
  if (family === 0) return 'not an IP address'
  const v4 = family === 6 ? embeddedIpv4(ip) : ip
  if (v4 !== undefined && v4 !== ip) return addressRange(v4)
  const type = family === 4 ? 'ipv4' : 'ipv6'
  const range = LISTS.find(({list}) => list.check(ip, type))?.label
  const canonical = family === 6 ? (ipv6Groups(ip) ?? []).map((group) => group.toString(16)).join(':') : ip
  const metadata = METADATA.has(ip) || (family === 6 && canonical === 'fd00:ec2:0:0:0:0:0:254')
  if (metadata) return `${range ?? 'public'}/metadata`
  return range
}

/** The IPv4 address an IPv6 address carries (mapped, NAT64 or 6to4), if it carries one. */
function embeddedIpv4(ip: string): string | undefined {
  const groups = ipv6Groups(ip)
  if (!groups) return undefined
  const quad = (high: number, low: number): string => [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.')
  const zeros = (from: number, to: number): boolean => groups.slice(from, to).every((group) => group === 0)
  // ::ffff:a.b.c.d (mapped) and ::ffff:0:a.b.c.d (translated).
  if (zeros(0, 5) && groups[5] === 0xffff) return quad(groups[6] ?? 0, groups[7] ?? 0)
  if (zeros(0, 4) && groups[4] === 0xffff && groups[5] === 0) return quad(groups[6] ?? 0, groups[7] ?? 0)
  // 64:ff9b::a.b.c.d (NAT64, RFC 6052).
  if (groups[0] === 0x64 && groups[1] === 0xff9b && zeros(2, 6)) return quad(groups[6] ?? 0, groups[7] ?? 0)
  // 2002:aabb:ccdd::/48 (6to4, RFC 3056).
  if (groups[0] === 0x2002) return quad(groups[1] ?? 0, groups[2] ?? 0)
  return undefined
}

/** The eight 16-bit groups of an IPv6 address (a trailing dotted quad included). */
function ipv6Groups(ip: string): number[] | undefined {
  let text = ip.toLowerCase()
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text)
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number]
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`
  }

  const [head = '', tail] = text.split('::')
  const parse = (part: string): number[] => (part === '' ? [] : part.split(':').map((group) => Number.parseInt(group, 16)))
  const left = parse(head)
  const right = tail === undefined ? [] : parse(tail)
  const groups = tail === undefined ? left : [...left, ...Array.from({length: 8 - left.length - right.length}, () => 0), ...right]
  return groups.length === 8 && groups.every((group) => Number.isInteger(group) && group >= 0 && group <= 0xffff) ? groups : undefined
}

/** "a loopback address", "an unspecified address": a range as a message names it. */
export function rangeAddress(range: string): string {
  return `${/^[aeiou]/.test(range) ? 'an' : 'a'} ${range} address`
}
