// The members section of the details panel: who is in the conversation and
// with which role (GET …/members), adding people from the directory
// (POST …/members), removing a member (DELETE …/members/{user_id}) and
// changing a role (PUT …/members/{user_id}/role). Controls appear only for
// what the policy lets me do (crates/kontor-core policy.rs); the server
// decides, and its refusals are shown as text in both languages.

import * as api from '../api.js';
import { h, confirmDialog } from '../dom.js';
import { icon } from '../icons.js';
import { t, tn, errorText } from '../i18n.js';
import { state, userName, ensureUsers, subscribe } from '../state.js';
import * as presence from '../presence.js';
import { PeoplePicker } from './people.js';

const ROLES = ['owner', 'moderator', 'member'];
const RANK = { owner: 0, moderator: 1, member: 2 };

/**
 * What my role lets me do here (mirrors kontor-core's policy::authorize):
 * groups are managed by owners, channels by owners and moderators, roles
 * are changed by owners, and a direct conversation cannot be changed.
 */
export function permissions(view) {
  const role = view.role();
  const kind = view.kind();
  const manage = (kind === 'group' && role === 'owner') || (kind === 'channel' && (role === 'owner' || role === 'moderator'));
  return { edit: manage, manage, roles: kind !== 'direct' && role === 'owner', leave: kind !== 'direct' && !!role };
}

/** A server refusal as text; a conflict (409) is explained by what was tried. */
export function errorFor(err, action = '') {
  if (!err && action === 'pick') return t('members.pickFirst');
  if (err && err.code === 'conflict') {
    if (action === 'leave' || action === 'remove') return t('members.errLastOwner');
    if (action === 'role') return t('members.errOneOwner');
  }
  return errorText(err);
}

export class MemberSection {
  /** @param {import('./conversation.js').ConversationView} view */
  constructor(view) {
    this.view = view;
    this.members = null; // Member[] once loaded
    this.loadError = null;
    this.picker = null;
    this.el = h('section', { class: 'details-section' });
    this.presenceSource = `members:${view.id}`;
    this.onlineKey = '';
    // Redraw only when a member's status changed: a redraw rebuilds the
    // rows (and would close an open role menu).
    this.unsubscribe = subscribe((kinds) => {
      if (kinds.has('presence') && this.members && this.onlineNow() !== this.onlineKey) this.renderList();
    });
  }

  async load() {
    try {
      const members = await api.members(this.view.id);
      await ensureUsers(members.map((m) => m.user_id));
      this.members = members;
      this.loadError = null;
    } catch (e) {
      this.loadError = e;
    }
    this.renderList();
  }

  /** Build the section (first time, language or permission change). */
  render() {
    const headingId = `members-title-${this.view.id}`;
    const perms = permissions(this.view);
    this.heading = h('h3', { id: headingId, tabindex: '-1' }, t('members.title'));
    this.count = h('span', { class: 'muted small members-count' });
    this.status = h('p', { class: 'muted', role: 'status' });
    this.error = h('p', { class: 'form-error', role: 'alert' });
    this.list = h('ul', { class: 'member-list', 'aria-labelledby': headingId });
    if (this.picker) this.picker.search.cancel();
    this.picker = null;
    let addForm = null;
    if (perms.manage) {
      this.picker = new PeoplePicker({ label: t('members.add'), exclude: () => new Set((this.members || []).map((m) => m.user_id)) });
      this.picker.setHint(t('members.addHint'));
      this.addBtn = h('button', { type: 'submit', class: 'btn btn-primary' }, t('members.addButton'));
      addForm = h('form', { class: 'member-add', on: { submit: (e) => { e.preventDefault(); this.add(); } } },
        this.picker.el,
        h('div', { class: 'dialog-actions' }, this.addBtn));
      this.picker.runSearch('');
    }
    this.el.setAttribute('aria-labelledby', headingId);
    this.el.replaceChildren(...[h('div', { class: 'details-heading' }, this.heading, this.count), this.status, this.error, this.list, addForm].filter(Boolean));
    this.renderList();
  }

  /** Re-render the rows, keeping focus on the same control. */
  renderList() {
    if (!this.list) return;
    if (!this.members) {
      this.count.textContent = '';
      this.list.replaceChildren();
      if (this.loadError) this.error.textContent = errorFor(this.loadError);
      else this.status.textContent = t('members.loading');
      return;
    }
    if (this.status.textContent === t('members.loading')) this.status.textContent = '';
    const active = document.activeElement;
    const key = this.list.contains(active) && active.dataset ? active.dataset.key : null;
    const sorted = [...this.members].sort((a, b) => (RANK[a.role] ?? 3) - (RANK[b.role] ?? 3) || userName(a.user_id).localeCompare(userName(b.user_id)));
    presence.show(this.presenceSource, sorted.map((m) => m.user_id));
    this.onlineKey = this.onlineNow();
    this.count.textContent = tn('conv.members', sorted.length);
    this.list.replaceChildren(...sorted.map((m) => this.row(m)));
    if (key) {
      const again = this.list.querySelector(`[data-key="${CSS.escape(key)}"]`);
      if (again) again.focus();
      else this.heading.focus();
    }
  }

  /** Which members are online now, as a comparable key. */
  onlineNow() {
    return (this.members || []).filter((m) => presence.isOnline(m.user_id)).map((m) => m.user_id).sort((a, b) => a - b).join(',');
  }

  row(m) {
    const perms = permissions(this.view);
    const me = state.me && m.user_id === state.me.id;
    const name = userName(m.user_id);
    const user = state.users.get(m.user_id);
    const myRole = this.view.role();
    const canRemove = perms.manage && !me && (m.role !== 'owner' || myRole === 'owner');
    const role = perms.roles
      ? h('select', {
        class: 'input role-select',
        'aria-label': t('members.roleLabel', { name }),
        dataset: { key: `role:${m.user_id}` },
        on: { change: (e) => this.changeRole(m, e.target) },
      }, ROLES.map((r) => h('option', { value: r, selected: r === m.role }, t(`role.${r}`))))
      : h('span', { class: 'tag' }, t(`role.${m.role}`));
    return h('li', { class: 'member', dataset: { id: m.user_id } },
      h('div', { class: 'member-info' },
        h('span', { class: 'member-name' },
          presence.isOnline(m.user_id) ? h('span', { class: 'presence-dot', 'aria-hidden': 'true', dataset: { presence: 'online' } }) : null,
          name,
          me ? h('span', { class: 'muted' }, ` ${t('members.you')}`) : null,
          presence.isOnline(m.user_id) ? h('span', { class: 'visually-hidden' }, ` (${t('presence.online')})`) : null),
        user && user.username ? h('span', { class: 'muted small' }, `@${user.username}`) : null),
      role,
      canRemove
        ? h('button', {
          type: 'button',
          class: 'icon-btn member-remove',
          dataset: { key: `remove:${m.user_id}` },
          'aria-label': t('members.removeNamed', { name }),
          title: t('members.removeNamed', { name }),
          on: { click: () => this.remove(m) },
        }, icon('close'))
        : null);
  }

  say(text) {
    this.error.textContent = '';
    this.status.textContent = text;
  }

  fail(err, action) {
    this.status.textContent = '';
    this.error.textContent = errorFor(err, action);
  }

  async add() {
    const ids = this.picker.ids();
    if (!ids.length) {
      this.fail(null, 'pick');
      this.picker.focus();
      return;
    }
    this.addBtn.disabled = true;
    try {
      const added = await api.addMembers(this.view.id, ids);
      for (const m of added) this.upsert(m);
      this.picker.clear();
      this.say(tn('members.added', added.length));
      this.renderList();
    } catch (e) {
      this.fail(e, 'add');
    } finally {
      this.addBtn.disabled = false;
    }
  }

  async changeRole(m, select) {
    const role = select.value;
    const name = userName(m.user_id);
    try {
      await api.setMemberRole(this.view.id, m.user_id, role);
      m.role = role;
      this.say(t('members.roleChanged', { name, role: t(`role.${role}`) }));
      this.renderList();
    } catch (e) {
      select.value = m.role;
      this.fail(e, 'role');
    }
  }

  async remove(m) {
    const name = userName(m.user_id);
    const ok = await confirmDialog({
      title: t('members.removeTitle'),
      message: t('members.removeConfirm', { name, conv: this.view.title() }),
      confirmLabel: t('members.remove'),
      cancelLabel: t('dialog.cancel'),
      danger: true,
    });
    if (!ok) return;
    try {
      await api.removeMember(this.view.id, m.user_id);
      this.drop(m.user_id);
      this.say(t('members.removed', { name }));
      this.renderList();
      this.heading.focus();
    } catch (e) {
      this.fail(e, 'remove');
    }
  }

  upsert(member) {
    if (!this.members) return;
    const known = this.members.find((x) => x.user_id === member.user_id);
    if (known) known.role = member.role;
    else this.members.push({ ...member });
  }

  drop(userId) {
    if (this.members) this.members = this.members.filter((x) => x.user_id !== userId);
  }

  /** Member events from the socket (the list keeps itself current). */
  onEvent(frame) {
    switch (frame.type) {
      case 'member_added':
        this.upsert({ user_id: frame.user_id, role: frame.role, joined_at: new Date().toISOString() });
        if (!state.users.has(frame.user_id)) ensureUsers([frame.user_id]).then(() => this.renderList()).catch(() => {});
        break;
      case 'member_removed':
        this.drop(frame.user_id);
        break;
      case 'member_role_changed':
        this.upsert({ user_id: frame.user_id, role: frame.role });
        break;
      default:
        return;
    }
    this.renderList();
    if (this.picker) this.picker.refresh();
  }

  destroy() {
    if (this.picker) this.picker.search.cancel();
    this.unsubscribe();
    presence.hide(this.presenceSource);
  }
}
