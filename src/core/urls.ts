/**
 * The one base-URL rule for every link ipkeep prints, mails or answers (update URLs, router
 * snippets, reset/confirm/invite links, install commands, the served install.sh, download
 * URLs): the `--url` flag (or IPKEEP_URL, or the config file's `url`) first, then the public
 * URL that `ipkeep init --url` stored, then where the caller reaches this server: the request's
 * origin for the API, the first HTTP listener for the CLI (which has no request).
 */

/** The settings key `init --url` stores the public URL under. */
export const PUBLIC_URL_SETTING = "public_url";

export interface BaseUrlSources {
  /** --url, IPKEEP_URL or the config file. */
  flag?: string | null;
  /** The stored public URL (settings). */
  stored?: string | null;
  /** The request's origin ("http://127.0.0.1:8080"), or the CLI's listener URL. */
  origin: string;
}

export function baseUrl(src: BaseUrlSources): string {
  const chosen = [src.flag, src.stored].find((v): v is string => typeof v === "string" && v.trim() !== "") ?? src.origin;
  return chosen.trim().replace(/\/+$/, "");
}

/** The same rule, with the stored value read from settings. */
export function baseUrlFrom(settings: { get(key: string): string | null }, flag: string | null | undefined, origin: string): string {
  return baseUrl({ flag, stored: settings.get(PUBLIC_URL_SETTING), origin });
}
