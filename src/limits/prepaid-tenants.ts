/** Tenants remembered per isolate: past this, the least recently seen is forgotten. */
const MAX_TENANTS = 10_000;

/**
 * Which tenants this isolate has seen to be prepaid, learnt from every admission's reply (its
 * state hash says so), so that while Redis is unreachable a prepaid tenant is refused (503
 * `limits_unavailable`) instead of falling open: its balance cannot be checked, and an unmetered
 * prepaid spend is money lost. A tenant this isolate has not yet seen cannot be known without the
 * store: it follows the failure policy, and its real billed price is still taken from its balance
 * at settlement if Redis is back by then.
 * @example if (!reply && prepaid.has(caller.tenant)) refuse()
 */
export class PrepaidTenants {
  private readonly seen = new Map<string, true>();

  /** Records what an admission's reply said about the tenant. */
  remember(tenant: string, prepaid: boolean): void {
    if (!prepaid) {
      this.seen.delete(tenant);
      return;
    }
    // Re-inserted, so the Map's order is least recently seen first.
    this.seen.delete(tenant);
    this.seen.set(tenant, true);
    if (this.seen.size > MAX_TENANTS) {
      const oldest = this.seen.keys().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
  }

  /** True when the last reply this isolate saw for the tenant said prepaid. */
  has(tenant: string): boolean {
    return this.seen.has(tenant);
  }
}
