// Live events for an open conversation: applies one event-stream frame
// (docs/openapi.json WireEvent) to a ConversationView and its side panel.
// state.js has already applied it to the conversation list.

import * as api from '../api.js';
import { state } from '../state.js';
import { applyDeleted, applyReaction } from './message.js';

/** Which conversation a frame is about (null for none). */
function conversationOf(frame) {
  return frame.conversation_id ?? (frame.message && frame.message.conversation_id) ?? (frame.conversation && frame.conversation.id) ?? null;
}

/** @param {import('./conversation.js').ConversationView} view */
export function applyLiveEvent(view, frame) {
  if (conversationOf(frame) !== view.id || view.status !== 'ready') return;
  const me = state.me ? state.me.id : null;
  switch (frame.type) {
    case 'message_created':
      view.ingestCreated(frame.message);
      break;
    case 'message_edited': {
      const known = view.store.get(frame.message.id);
      if (known) view.messageChanged(view.upsert(frame.message));
      break;
    }
    case 'message_deleted': {
      const known = view.store.get(frame.message_id);
      if (known) {
        applyDeleted(known);
        view.messageChanged(known);
      }
      const root = frame.thread_root_id && view.store.get(frame.thread_root_id);
      if (root) {
        // The server lowers the root's reply count; fetch its new state.
        api.message(root.id).then((fresh) => view.messageChanged(view.upsert(fresh))).catch(() => {});
      }
      break;
    }
    case 'reaction_changed': {
      const known = view.store.get(frame.message_id);
      if (known && !known.deleted) {
        applyReaction(known, frame.user_id, frame.emoji, frame.added);
        view.messageChanged(known);
      }
      break;
    }
    case 'typing':
      if (frame.user_id !== me) view.typing.start(frame.user_id);
      break;
    case 'conversation_updated':
      view.detail.conversation = { ...view.detail.conversation, ...frame.conversation };
      view.renderHeader();
      view.updatePermissions();
      break;
    case 'member_added':
      if (frame.user_id === me) view.reloadDetail();
      else {
        view.detail.conversation.member_count += 1;
        view.renderHeader();
      }
      break;
    case 'member_removed':
      if (frame.user_id === me) {
        if (view.detail.conversation.is_public) view.reloadDetail();
        else {
          view.closePanel(false);
          view.status = 'missing';
          view.loadError = null;
          view.render();
          return;
        }
      } else {
        view.detail.conversation.member_count = Math.max(0, view.detail.conversation.member_count - 1);
        view.renderHeader();
      }
      break;
    case 'member_role_changed':
      if (frame.user_id === me) {
        view.detail.role = frame.role;
        view.updatePermissions();
      }
      break;
    default:
      return;
  }
  if (view.details) view.details.onEvent(frame);
}
