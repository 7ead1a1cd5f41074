// Showing one message in its conversation: for a search hit, or a link
// /c/<conversation>?m=<message>. The main timeline loads a window around
// the message (Timeline.showAfter: the page up to and including it and
// the page after it, as "jump to first unread" does) unless it is loaded
// already, scrolls it into view, marks it and focuses it; the mark goes
// when focus leaves the message. A thread reply is shown in its thread
// panel (loaded around the reply the same way), with its root scrolled
// into view in the timeline behind.

import * as api from '../api.js';
import { t } from '../i18n.js';

/** From this width the side panel sits beside the timeline (style.css). */
const SIDE_BY_SIDE = '(min-width: 1200px)';

/**
 * @param {import('./conversation.js').ConversationView} view  a loaded view
 * @param {number} id  the message to show
 * @returns {Promise<boolean>} whether it is shown (false: gone, failed, or superseded)
 */
export async function revealMessage(view, id) {
  view.revealGen = (view.revealGen || 0) + 1;
  const gen = view.revealGen;
  const stale = () => view.destroyed || gen !== view.revealGen;
  let msg = view.store.get(id);
  if (!msg) {
    try {
      msg = await api.message(id);
    } catch (e) {
      if (!stale()) view.showError(e, e.status === 404 ? t('search.gone') : null);
      return false;
    }
    if (stale()) return false;
  }
  if (msg.conversation_id !== view.id) return false;
  const rootId = msg.thread_root_id ?? null;
  const mainId = rootId ?? msg.id;

  const timeline = view.timeline;
  if (!timeline.has(mainId)) {
    const ok = await timeline.showAfter(mainId);
    if (stale()) return false;
    if (!ok || !timeline.has(mainId)) {
      view.showError(null, t('search.revealFailed'));
      return false;
    }
  }
  if (rootId === null) {
    // A sheet or an overlay would hide the timeline.
    if (view.panel && !window.matchMedia(SIDE_BY_SIDE).matches) view.closePanel(false);
    return spotlight(view.scope, msg.id, true);
  }

  spotlight(view.scope, rootId, false);
  const root = view.store.get(rootId);
  if (!root) return false;
  await view.openThread(root);
  const thread = view.thread;
  if (stale() || !thread || thread.root.id !== rootId || thread.status !== 'ready') return false;
  if (!thread.timeline.has(msg.id)) {
    const ok = await thread.timeline.showAfter(msg.id);
    if (stale() || view.thread !== thread) return false;
    if (!ok || !thread.timeline.has(msg.id)) {
      view.showError(null, t('search.revealFailed'));
      return false;
    }
  }
  return spotlight(thread.scope, msg.id, true);
}

/** Scroll a rendered message into view; `focus`: also mark and focus it. */
function spotlight(scope, id, focus) {
  const node = scope.nodes.get(id);
  if (!node || !node.isConnected) return false;
  node.scrollIntoView({ block: 'center' });
  if (!focus) return true;
  for (const old of document.querySelectorAll('.msg-target')) old.classList.remove('msg-target');
  node.classList.add('msg-target');
  node.addEventListener('focusout', (e) => {
    if (!node.contains(e.relatedTarget)) node.classList.remove('msg-target');
  });
  node.tabIndex = -1;
  node.focus({ preventScroll: true });
  return true;
}
