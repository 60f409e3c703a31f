/**
 * The agent's counters, in-process: reboots, refusals by reason, who holds the lock. Prometheus-ready (`render()` is
 * the text exposition format) so `serve` can expose it later; `snapshot()` is the same as plain data for logs and
 * `maintain status`.
 */
export class MaintenanceMetrics {
  private readonly reboots = new Map<string, number>();
  private readonly failures = new Map<string, number>();
  private readonly refusals = new Map<string, number>();
  private readonly holders = new Map<string, string>();
  private wanted = 0;

  constructor(readonly node: string) {}

  countReboot(): void {
    this.reboots.set(this.node, (this.reboots.get(this.node) ?? 0) + 1);
  }

  countFailure(reason: string): void {
    this.failures.set(reason, (this.failures.get(reason) ?? 0) + 1);
  }

  countRefusals(codes: string[]): void {
    for (const code of new Set(codes)) this.refusals.set(code, (this.refusals.get(code) ?? 0) + 1);
  }

  setWanted(wanted: boolean): void {
    this.wanted = wanted ? 1 : 0;
  }

  /** Who holds `slot` as this agent last saw it (undefined: free). */
  setLockHolder(slot: string, holder: string | undefined): void {
    if (holder === undefined) this.holders.delete(slot);
    else this.holders.set(slot, holder);
  }

  snapshot(): Record<string, number> {
    const out: Record<string, number> = { reboots: this.reboots.get(this.node) ?? 0, wanted: this.wanted };
    for (const [code, n] of this.refusals) out[`refusals.${code}`] = n;
    for (const [reason, n] of this.failures) out[`failures.${reason}`] = n;
    return out;
  }

  render(): string {
    const lines: string[] = [];
    const family = (name: string, type: 'counter' | 'gauge', help: string, samples: Array<[string, number]>) => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [labels, value] of samples) lines.push(`${name}${labels} ${value}`);
    };
    const node = `node="${labelValue(this.node)}"`;
    family('lifeboat_maintenance_reboots_total', 'counter', 'Maintenance reboots completed by this agent.', [
      [`{${node}}`, this.reboots.get(this.node) ?? 0],
    ]);
    family(
      'lifeboat_maintenance_refusals_total',
      'counter',
      'Maintenance attempts refused, by reason.',
      [...this.refusals].sort().map(([code, n]) => [`{${node},reason="${labelValue(code)}"}`, n]),
    );
    family(
      'lifeboat_maintenance_failures_total',
      'counter',
      'Maintenance steps that failed, by reason.',
      [...this.failures].sort().map(([reason, n]) => [`{${node},reason="${labelValue(reason)}"}`, n]),
    );
    family('lifeboat_maintenance_wanted', 'gauge', '1 when this node wants maintenance.', [[`{${node}}`, this.wanted]]);
    family(
      'lifeboat_maintenance_lock_holder',
      'gauge',
      '1 for the holder of each maintenance lock slot, as this agent last saw it.',
      [...this.holders]
        .sort()
        .map(([slot, holder]) => [`{slot="${labelValue(slot)}",holder="${labelValue(holder)}"}`, 1]),
    );
    return `${lines.join('\n')}\n`;
  }
}

function labelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}
