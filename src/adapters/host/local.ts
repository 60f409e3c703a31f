import { hostname, networkInterfaces } from 'node:os';

/** This host's addresses and name, to tell whether it is one of the etcd members. */
export function localHost(): { addresses: string[]; hostname: string } {
  const addresses = Object.values(networkInterfaces())
    .flatMap((list) => list ?? [])
    .map((i) => i.address);
  return { addresses, hostname: hostname() };
}
