// Translations (German first and default, English) and date/time formatting.
//
// t(key, vars) looks a string up in the current language ({name} is
// replaced by vars.name); tn(key, count, vars) picks `key.one` or
// `key.other` by the language's plural rules. The language comes from
// localStorage `kontor.lang`, else navigator.languages (de* → de, else en).

import { de } from './lang/de.js';
import { en } from './lang/en.js';

/** German first: it is the default and the fallback. */
export const dictionaries = { de, en };
export const LANGUAGES = ['de', 'en'];
/** localStorage key of the chosen language (kept across logouts: see app.js). */
export const LANG_KEY = 'kontor.lang';

let lang = pickLanguage();
const listeners = new Set();
const formatters = new Map();

function pickLanguage() {
  try {
    const stored = localStorage.getItem(LANG_KEY);
    if (stored && LANGUAGES.includes(stored)) return stored;
  } catch {
    // storage unavailable
  }
  const prefs = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || 'de'];
  const first = String(prefs[0] || 'de').toLowerCase();
  return first.startsWith('de') ? 'de' : 'en';
}

export function getLanguage() {
  return lang;
}

/** Switch language, remember it and re-render (listeners). */
export function setLanguage(next) {
  if (!LANGUAGES.includes(next)) return;
  try {
    localStorage.setItem(LANG_KEY, next);
  } catch {
    // storage unavailable: this tab only
  }
  if (next === lang) return;
  lang = next;
  formatters.clear();
  applyDocumentLanguage();
  for (const fn of listeners) fn(lang);
}

/** Run fn after every language change (the app re-renders there). */
export function onLanguageChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** Set <html lang> to the current language. */
export function applyDocumentLanguage() {
  document.documentElement.lang = lang;
}

/** Translate a key; {placeholders} are filled from vars. */
export function t(key, vars) {
  const dict = dictionaries[lang] || de;
  let s = dict[key];
  if (s === undefined) s = de[key];
  if (s === undefined) return key;
  if (vars) s = s.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m));
  return s;
}

/** Translate with a count: uses `key.one` / `key.other`. */
export function tn(key, count, vars = {}) {
  const rule = new Intl.PluralRules(lang).select(count) === 'one' ? 'one' : 'other';
  return t(`${key}.${rule}`, { ...vars, count: formatNumber(count) });
}

function locale() {
  if (lang === 'de') return 'de-DE';
  const nav = navigator.language || '';
  return nav.toLowerCase().startsWith('en') ? nav : 'en-GB';
}

function fmt(name, options) {
  let f = formatters.get(name);
  if (!f) {
    f = new Intl.DateTimeFormat(locale(), options);
    formatters.set(name, f);
  }
  return f;
}

export function formatNumber(n) {
  return new Intl.NumberFormat(locale()).format(n);
}

/** A file size: "512 Byte", "1,2 MB" (German) / "1.2 MB" (English); binary units. */
export function formatSize(bytes) {
  const n = Math.max(0, Number(bytes) || 0);
  if (n < 1024) return t('size.bytes', { n: formatNumber(n) });
  const units = ['size.kb', 'size.mb', 'size.gb'];
  let value = n / 1024;
  let i = 0;
  while (value >= 1024 && i < units.length - 1) {
    value /= 1024;
    i += 1;
  }
  const digits = value < 10 ? 1 : 0;
  const text = new Intl.NumberFormat(locale(), { maximumFractionDigits: digits }).format(value);
  return t(units[i], { n: text });
}

/** "14:05" in the chosen locale. */
export function formatTime(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return fmt('time', { hour: lang === 'de' ? '2-digit' : 'numeric', minute: '2-digit' }).format(d);
}

/**
 * A day: "Heute", "Gestern", else "Montag, 3. März 2025" (short: "03.03.25").
 */
export function formatDay(iso, short = false) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const key = dayKey(iso);
  const today = new Date();
  if (key === dayKey(today.toISOString())) return t('day.today');
  const yesterday = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 1);
  if (key === dayKey(yesterday.toISOString())) return t('day.yesterday');
  if (short) return fmt('dayShort', { day: '2-digit', month: '2-digit', year: '2-digit' }).format(d);
  return fmt('dayLong', { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' }).format(d);
}

/** A calendar date: "03.03.2025" (German), "03/03/2025" (en-GB). */
export function formatDate(date) {
  const d = new Date(date);
  if (Number.isNaN(d.getTime())) return '';
  return fmt('date', { day: '2-digit', month: '2-digit', year: 'numeric' }).format(d);
}

/** Date and time, e.g. for sessions and tooltips. */
export function formatDateTime(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return fmt('dateTime', { dateStyle: 'medium', timeStyle: 'short' }).format(d);
}

/** Local calendar day of a timestamp, "YYYY-M-D" (for grouping). */
export function dayKey(iso) {
  const d = new Date(iso);
  return `${d.getFullYear()}-${d.getMonth() + 1}-${d.getDate()}`;
}

export function isToday(iso) {
  return dayKey(iso) === dayKey(new Date().toISOString());
}

/** User-facing text for an error (ApiError or anything else). */
export function errorText(err) {
  if (!err) return t('error.generic');
  const code = err.code;
  if (code === 'rate_limited' && err.retryAfter) {
    return err.retryAfter >= 120
      ? t('error.rate_limited_minutes', { minutes: Math.ceil(err.retryAfter / 60) })
      : t('error.rate_limited_after', { seconds: err.retryAfter });
  }
  if (code && Object.prototype.hasOwnProperty.call(de, `error.${code}`)) return t(`error.${code}`);
  return err.message || t('error.generic');
}
