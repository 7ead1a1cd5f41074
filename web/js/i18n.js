// Translations (German first and default, English) and date/time formatting.
//
// t(key, vars) looks a string up in the current language ({name} is
// replaced by vars.name); tn(key, count, vars) picks `key.one` or
// `key.other` by the language's plural rules. The language comes from
// localStorage `kontor.lang`, else navigator.languages (de* → de, else en).

const de = {
  'app.connecting': 'Verbindung zum Server wird aufgebaut …',
  'app.offline': 'Keine Verbindung. Es wird automatisch neu verbunden …',
  'app.pickConversation': 'Wähle links eine Unterhaltung aus oder beginne eine neue.',

  'lang.switchToDe': 'Deutsch',
  'lang.switchToEn': 'English',

  'login.title': 'Anmelden',
  'login.name': 'Benutzername oder E-Mail',
  'login.password': 'Passwort',
  'login.submit': 'Anmelden',
  'login.busy': 'Anmeldung läuft …',
  'login.missing': 'Bitte Benutzername oder E-Mail und Passwort eingeben.',
  'login.loggedOut': 'Du hast dich abgemeldet.',
  'login.sessionEnded': 'Deine Sitzung wurde beendet. Bitte melde dich erneut an.',

  'nav.back': 'Zurück zur Liste',
  'dialog.close': 'Schließen',
  'dialog.cancel': 'Abbrechen',

  'list.title': 'Unterhaltungen',
  'list.navLabel': 'Unterhaltungen',
  'list.browseChannels': 'Öffentliche Kanäle durchsuchen',
  'list.newConversation': 'Neue Unterhaltung',
  'list.settings': 'Einstellungen',
  'list.filterLabel': 'Unterhaltungen filtern',
  'list.filterPlaceholder': 'Filtern …',
  'list.loading': 'Unterhaltungen werden geladen …',
  'list.empty': 'Noch keine Unterhaltungen. Beginne eine neue oder tritt einem Kanal bei.',
  'list.noMatch': 'Keine Unterhaltung passt zum Filter.',
  'list.noMessages': 'Noch keine Nachrichten',
  'list.you': 'Du',
  'list.previewFrom': '{name}: {text}',
  'list.unread.one': '{count} ungelesene Nachricht',
  'list.unread.other': '{count} ungelesene Nachrichten',
  'list.mentions.one': '{count} Erwähnung',
  'list.mentions.other': '{count} Erwähnungen',

  'conv.loading': 'Unterhaltung wird geladen …',
  'conv.missing': 'Diese Unterhaltung gibt es nicht oder du bist kein Mitglied (mehr).',
  'conv.unavailable': 'Nicht verfügbar',
  'conv.retry': 'Erneut versuchen',
  'conv.messages': 'Nachrichten',
  'conv.members.one': '{count} Mitglied',
  'conv.members.other': '{count} Mitglieder',
  'conv.private': 'privat',
  'conv.directFallback': 'Direktnachricht',
  'conv.groupFallback': 'Gruppe',
  'conv.untitled': 'Ohne Namen',
  'conv.notMember': 'Du bist noch kein Mitglied dieses Kanals.',
  'conv.announcementOnly': 'In diesem Ankündigungskanal dürfen nur Eigentümer und Moderatoren schreiben.',

  'timeline.loadOlder': 'Ältere Nachrichten laden',
  'timeline.loadingOlder': 'Ältere Nachrichten werden geladen …',

  'message.edited': '(bearbeitet)',
  'message.deleted': 'Diese Nachricht wurde gelöscht.',
  'message.actions': 'Aktionen zur Nachricht',
  'message.edit': 'Nachricht bearbeiten',
  'message.editLabel': 'Nachricht bearbeiten',
  'message.save': 'Speichern',
  'message.delete': 'Nachricht löschen',
  'message.deleteTitle': 'Nachricht löschen?',
  'message.deleteConfirm': 'Die Nachricht wird für alle gelöscht. Das lässt sich nicht rückgängig machen.',
  'message.empty': 'Eine Nachricht darf nicht leer sein.',

  'reaction.add': 'Reaktion hinzufügen',
  'reaction.pick': 'Reaktion auswählen',
  'reaction.react': 'Mit {emoji} reagieren',
  'reaction.label.one': '{emoji}: {count} Reaktion',
  'reaction.label.other': '{emoji}: {count} Reaktionen',

  'thread.title': 'Thread',
  'thread.reply': 'Im Thread antworten',
  'thread.close': 'Thread schließen',
  'thread.loading': 'Antworten werden geladen …',
  'thread.rootLabel': 'Ursprüngliche Nachricht',
  'thread.repliesLabel': 'Antworten',
  'thread.composerLabel': 'Antwort im Thread',
  'thread.placeholder': 'Antworten …',
  'thread.replies.one': '{count} Antwort',
  'thread.replies.other': '{count} Antworten',
  'thread.lastReply': 'zuletzt {time}',

  'typing.one': '{name} schreibt …',
  'typing.two': '{a} und {b} schreiben …',
  'typing.many': 'Mehrere Personen schreiben …',

  'composer.label': 'Nachricht an {name}',
  'composer.labelDirect': 'Nachricht an {name}',
  'composer.placeholder': 'Nachricht schreiben …',
  'composer.help': 'Eingabetaste sendet, Umschalt+Eingabe fügt eine neue Zeile ein.',
  'composer.send': 'Senden',
  'composer.tooLong': 'Die Nachricht ist zu lang (höchstens 16 KiB).',
  'mention.label': 'Vorschläge für Erwähnungen',
  'mention.channel': 'Alle in dieser Unterhaltung benachrichtigen',
  'unread.jump': 'Zum ersten Ungelesenen',
  'unread.new': 'Neu',

  'new.title': 'Neue Unterhaltung',
  'new.kind': 'Art',
  'new.kind.direct': 'Direktnachricht',
  'new.kind.group': 'Gruppe',
  'new.kind.channel': 'Kanal',
  'new.name': 'Name',
  'new.visibility': 'Sichtbarkeit',
  'new.public': 'Öffentlich (für alle im Unternehmen)',
  'new.private': 'Privat (nur auf Einladung)',
  'new.announcement': 'Ankündigungskanal (nur Eigentümer und Moderatoren schreiben)',
  'new.people': 'Kolleginnen und Kollegen suchen',
  'new.searchPlaceholder': 'Name, Benutzername oder E-Mail',
  'new.hintDirect': 'Wähle genau eine Person.',
  'new.hintGroup': 'Wähle eine oder mehrere Personen.',
  'new.hintChannel': 'Optional: Personen direkt hinzufügen.',
  'new.selected': 'Ausgewählt',
  'new.results': 'Suchergebnisse',
  'new.remove': '{name} entfernen',
  'new.searching': 'Suche läuft …',
  'new.found.one': '{count} Person gefunden',
  'new.found.other': '{count} Personen gefunden',
  'new.noneFound': 'Niemand gefunden.',
  'new.create': 'Erstellen',
  'new.errDirect': 'Für eine Direktnachricht bitte genau eine Person auswählen.',
  'new.errGroup': 'Bitte mindestens eine Person auswählen.',
  'new.errName': 'Ein Kanal braucht einen Namen.',

  'channels.title': 'Öffentliche Kanäle',
  'channels.loading': 'Kanäle werden geladen …',
  'channels.none': 'Es gibt noch keine öffentlichen Kanäle.',
  'channels.join': 'Beitreten',
  'channels.joinNamed': 'Kanal {name} beitreten',
  'channels.open': 'Öffnen',
  'channels.openNamed': 'Kanal {name} öffnen',
  'channels.announcement': 'Ankündigungen',
  'channels.members.one': '{count} Mitglied',
  'channels.members.other': '{count} Mitglieder',

  'settings.title': 'Einstellungen',
  'settings.language': 'Sprache',
  'settings.sessions': 'Meine Sitzungen',
  'settings.sessionsHint': 'Geräte, auf denen du angemeldet bist. Beende Sitzungen, die du nicht kennst.',
  'settings.loading': 'Sitzungen werden geladen …',
  'settings.current': 'diese Sitzung',
  'settings.created': 'Angemeldet: {time}',
  'settings.lastSeen': 'Zuletzt aktiv: {time}',
  'settings.unnamedDevice': 'Unbenanntes Gerät',
  'settings.revoke': 'Sitzung beenden',
  'settings.revokeNamed': 'Sitzung „{name}“ beenden',
  'settings.revokeTitle': 'Sitzung beenden?',
  'settings.revokeConfirm': 'Das Gerät „{name}“ wird sofort abgemeldet.',
  'settings.revoked': 'Die Sitzung wurde beendet.',
  'settings.account': 'Konto',
  'settings.signedInAs': 'Angemeldet als {name} ({username})',
  'settings.logout': 'Abmelden',

  'user.unknown': 'Unbekannte Person',

  'day.today': 'Heute',
  'day.yesterday': 'Gestern',

  'error.invalid_credentials': 'Benutzername/E-Mail oder Passwort ist falsch.',
  'error.rate_limited': 'Zu viele Versuche. Bitte warte einen Moment und versuche es dann erneut.',
  'error.rate_limited_after': 'Zu viele Versuche. Bitte versuche es in {seconds} Sekunden erneut.',
  'error.rate_limited_minutes': 'Zu viele Versuche. Bitte versuche es in {minutes} Minuten erneut.',
  'error.unauthenticated': 'Du bist nicht (mehr) angemeldet.',
  'error.forbidden': 'Dafür fehlt dir die Berechtigung.',
  'error.not_found': 'Nicht gefunden – oder du hast keinen Zugriff.',
  'error.limit_exceeded': 'Eine Grenze wurde überschritten.',
  'error.network': 'Keine Verbindung zum Server. Bitte prüfe deine Netzwerkverbindung.',
  'error.generic': 'Etwas ist schiefgegangen.',
};

const en = {
  'app.connecting': 'Connecting to the server …',
  'app.offline': 'No connection. Reconnecting automatically …',
  'app.pickConversation': 'Pick a conversation on the left or start a new one.',

  'lang.switchToDe': 'Deutsch',
  'lang.switchToEn': 'English',

  'login.title': 'Sign in',
  'login.name': 'Username or email',
  'login.password': 'Password',
  'login.submit': 'Sign in',
  'login.busy': 'Signing in …',
  'login.missing': 'Please enter your username or email and your password.',
  'login.loggedOut': 'You have signed out.',
  'login.sessionEnded': 'Your session has ended. Please sign in again.',

  'nav.back': 'Back to the list',
  'dialog.close': 'Close',
  'dialog.cancel': 'Cancel',

  'list.title': 'Conversations',
  'list.navLabel': 'Conversations',
  'list.browseChannels': 'Browse public channels',
  'list.newConversation': 'New conversation',
  'list.settings': 'Settings',
  'list.filterLabel': 'Filter conversations',
  'list.filterPlaceholder': 'Filter …',
  'list.loading': 'Loading conversations …',
  'list.empty': 'No conversations yet. Start one or join a channel.',
  'list.noMatch': 'No conversation matches the filter.',
  'list.noMessages': 'No messages yet',
  'list.you': 'You',
  'list.previewFrom': '{name}: {text}',
  'list.unread.one': '{count} unread message',
  'list.unread.other': '{count} unread messages',
  'list.mentions.one': '{count} mention',
  'list.mentions.other': '{count} mentions',

  'conv.loading': 'Loading conversation …',
  'conv.missing': 'This conversation does not exist or you are not (or no longer) a member.',
  'conv.unavailable': 'Not available',
  'conv.retry': 'Try again',
  'conv.messages': 'Messages',
  'conv.members.one': '{count} member',
  'conv.members.other': '{count} members',
  'conv.private': 'private',
  'conv.directFallback': 'Direct message',
  'conv.groupFallback': 'Group',
  'conv.untitled': 'Untitled',
  'conv.notMember': 'You are not a member of this channel yet.',
  'conv.announcementOnly': 'Only owners and moderators may post in this announcement channel.',

  'timeline.loadOlder': 'Load older messages',
  'timeline.loadingOlder': 'Loading older messages …',

  'message.edited': '(edited)',
  'message.deleted': 'This message was deleted.',
  'message.actions': 'Message actions',
  'message.edit': 'Edit message',
  'message.editLabel': 'Edit message',
  'message.save': 'Save',
  'message.delete': 'Delete message',
  'message.deleteTitle': 'Delete message?',
  'message.deleteConfirm': 'The message will be deleted for everyone. This cannot be undone.',
  'message.empty': 'A message cannot be empty.',

  'reaction.add': 'Add reaction',
  'reaction.pick': 'Pick a reaction',
  'reaction.react': 'React with {emoji}',
  'reaction.label.one': '{emoji}: {count} reaction',
  'reaction.label.other': '{emoji}: {count} reactions',

  'thread.title': 'Thread',
  'thread.reply': 'Reply in thread',
  'thread.close': 'Close thread',
  'thread.loading': 'Loading replies …',
  'thread.rootLabel': 'Original message',
  'thread.repliesLabel': 'Replies',
  'thread.composerLabel': 'Reply in thread',
  'thread.placeholder': 'Reply …',
  'thread.replies.one': '{count} reply',
  'thread.replies.other': '{count} replies',
  'thread.lastReply': 'last {time}',

  'typing.one': '{name} is typing …',
  'typing.two': '{a} and {b} are typing …',
  'typing.many': 'Several people are typing …',

  'composer.label': 'Message to {name}',
  'composer.labelDirect': 'Message to {name}',
  'composer.placeholder': 'Write a message …',
  'composer.help': 'Enter sends, Shift+Enter adds a new line.',
  'composer.send': 'Send',
  'composer.tooLong': 'The message is too long (at most 16 KiB).',
  'mention.label': 'Mention suggestions',
  'mention.channel': 'Notify everyone in this conversation',
  'unread.jump': 'Jump to first unread',
  'unread.new': 'New',

  'new.title': 'New conversation',
  'new.kind': 'Kind',
  'new.kind.direct': 'Direct message',
  'new.kind.group': 'Group',
  'new.kind.channel': 'Channel',
  'new.name': 'Name',
  'new.visibility': 'Visibility',
  'new.public': 'Public (everyone in the company)',
  'new.private': 'Private (by invitation)',
  'new.announcement': 'Announcement channel (only owners and moderators post)',
  'new.people': 'Search colleagues',
  'new.searchPlaceholder': 'Name, username or email',
  'new.hintDirect': 'Pick exactly one person.',
  'new.hintGroup': 'Pick one or more people.',
  'new.hintChannel': 'Optional: add people right away.',
  'new.selected': 'Selected',
  'new.results': 'Search results',
  'new.remove': 'Remove {name}',
  'new.searching': 'Searching …',
  'new.found.one': '{count} person found',
  'new.found.other': '{count} people found',
  'new.noneFound': 'Nobody found.',
  'new.create': 'Create',
  'new.errDirect': 'For a direct message, pick exactly one person.',
  'new.errGroup': 'Please pick at least one person.',
  'new.errName': 'A channel needs a name.',

  'channels.title': 'Public channels',
  'channels.loading': 'Loading channels …',
  'channels.none': 'There are no public channels yet.',
  'channels.join': 'Join',
  'channels.joinNamed': 'Join channel {name}',
  'channels.open': 'Open',
  'channels.openNamed': 'Open channel {name}',
  'channels.announcement': 'Announcements',
  'channels.members.one': '{count} member',
  'channels.members.other': '{count} members',

  'settings.title': 'Settings',
  'settings.language': 'Language',
  'settings.sessions': 'My sessions',
  'settings.sessionsHint': 'Devices you are signed in on. End any session you do not recognise.',
  'settings.loading': 'Loading sessions …',
  'settings.current': 'this session',
  'settings.created': 'Signed in: {time}',
  'settings.lastSeen': 'Last active: {time}',
  'settings.unnamedDevice': 'Unnamed device',
  'settings.revoke': 'End session',
  'settings.revokeNamed': 'End session “{name}”',
  'settings.revokeTitle': 'End session?',
  'settings.revokeConfirm': 'The device “{name}” will be signed out at once.',
  'settings.revoked': 'The session has ended.',
  'settings.account': 'Account',
  'settings.signedInAs': 'Signed in as {name} ({username})',
  'settings.logout': 'Sign out',

  'user.unknown': 'Unknown person',

  'day.today': 'Today',
  'day.yesterday': 'Yesterday',

  'error.invalid_credentials': 'Wrong username/email or password.',
  'error.rate_limited': 'Too many attempts. Please wait a moment and try again.',
  'error.rate_limited_after': 'Too many attempts. Please try again in {seconds} seconds.',
  'error.rate_limited_minutes': 'Too many attempts. Please try again in {minutes} minutes.',
  'error.unauthenticated': 'You are not signed in (any more).',
  'error.forbidden': 'You are not allowed to do that.',
  'error.not_found': 'Not found – or you have no access.',
  'error.limit_exceeded': 'A limit was exceeded.',
  'error.network': 'Cannot reach the server. Please check your network connection.',
  'error.generic': 'Something went wrong.',
};

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
