/**
 * A value made on first use and shared after, for what a dynamic import brings: the bundler keeps
 * such a module's top-level code out of the isolate's start. A failed load is tried again by the
 * next caller rather than remembered.
 * @example const admin = lazily(() => import("./admin/app").then((m) => m.createAdminApp(services)))
 */
export function lazily<T>(load: () => Promise<T>): () => Promise<T> {
  let loading: Promise<T> | undefined;
  return () => {
    loading ??= load().catch((error: unknown) => {
      loading = undefined;
      throw error;
    });
    return loading;
  };
}
