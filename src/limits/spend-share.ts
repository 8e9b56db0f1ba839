import type { AdmitReply, Reservation } from "./reservation";

/**
 * How much of its dollar budgets the caller has spent, as read by the admission: the largest
 * spent / limit over the key's and tenant's day and month budgets (the one closest to its limit),
 * before this request's reservation. Null when no budget applies or Redis did not answer.
 * Routes downgrade from it (`downgrade_at`) without a read of their own.
 * @example spendShare(reservation, reply) // 0.83: a budget is 83% spent
 */
export function spendShare(reservation: Reservation, reply: AdmitReply | null): number | null {
  if (!reply) return null;
  let share: number | null = null;
  reservation.budgetCounters.forEach((counter, i) => {
    const spent = reply.budgets[i]?.spent;
    if (spent === undefined || !Number.isFinite(spent)) return;
    // A zero budget is all spent already.
    const ratio = counter.budget.micros > 0 ? spent / counter.budget.micros : 1;
    if (share === null || ratio > share) share = ratio;
  });
  return share;
}
