// Files on the client side: how an attachment is shown (by the content type
// the server sniffed), and saving or opening a downloaded Blob.
//
// Only these types are ever shown inline (the server marks the rest
// `Content-Disposition: attachment` too): images as <img>, video and audio
// in <video>/<audio>, PDF and plain text in a new tab. Everything else,
// SVG and HTML included, is only offered as a download, and downloads are
// re-typed application/octet-stream, so the browser never renders them.

/** content type → how it is shown */
const INLINE = new Map([
  ['image/png', 'image'],
  ['image/jpeg', 'image'],
  ['image/gif', 'image'],
  ['image/webp', 'image'],
  ['video/mp4', 'video'],
  ['video/webm', 'video'],
  ['audio/mpeg', 'audio'],
  ['audio/ogg', 'audio'],
  ['application/pdf', 'pdf'],
  ['text/plain', 'text'],
]);

/** The type without parameters: "text/plain; charset=utf-8" → "text/plain". */
export function baseType(contentType) {
  return String(contentType || '').split(';')[0].trim().toLowerCase();
}

/** 'image' | 'video' | 'audio' | 'pdf' | 'text' | 'file' (download only). */
export function attachmentKind(att) {
  return INLINE.get(baseType(att.content_type)) || 'file';
}

/** A short type label for a file card: the extension ("PDF", "ZIP"), else the subtype. */
export function typeLabel(att) {
  const m = /\.([A-Za-z0-9]{1,8})$/.exec(att.name || '');
  if (m) return m[1].toUpperCase();
  const sub = baseType(att.content_type).split('/')[1] || '';
  return sub.replace(/^x-/, '').slice(0, 12).toUpperCase();
}

/** Object URLs handed to a download or a new tab live this long. */
const HANDOFF_MS = 60_000;

function handOff(url) {
  setTimeout(() => URL.revokeObjectURL(url), HANDOFF_MS);
}

/** Offer a Blob as a download named `name` (a temporary <a download>). */
export function saveBlob(blob, name) {
  const url = URL.createObjectURL(new Blob([blob], { type: 'application/octet-stream' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name || 'download';
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  handOff(url);
}

/** Open a PDF or plain text Blob in a new tab, typed by us and not by the file. */
export function openBlob(blob, kind) {
  const type = kind === 'pdf' ? 'application/pdf' : 'text/plain;charset=utf-8';
  const url = URL.createObjectURL(new Blob([blob], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.target = '_blank';
  a.rel = 'noopener noreferrer';
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  handOff(url);
}
