// @vitest-environment happy-dom
import { mount, type VueWrapper } from '@vue/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { defineComponent, h, nextTick, ref } from 'vue';
import ModalDialog from '../../../renderer/components/ModalDialog.vue';

let wrapper: VueWrapper | undefined;

afterEach(() => {
  wrapper?.unmount();
  wrapper = undefined;
  document.body.innerHTML = '';
});

/** A page with a button that had the focus, and the dialog (open or not) with two fields. */
function mountHost(props: { closeOnBackdrop?: boolean; form?: boolean } = {}) {
  const open = ref(false);
  const closes = ref(0);
  const submits = ref(0);
  const Host = defineComponent({
    setup: () => () =>
      h('div', [
        h('button', { id: 'opener' }, 'Open'),
        h(
          ModalDialog,
          {
            open: open.value,
            titleId: 't-title',
            backdropTestid: 't-backdrop',
            'data-testid': 't-dialog',
            'aria-describedby': 't-message',
            ...props,
            onClose: () => closes.value++,
            onSubmit: () => submits.value++,
          },
          {
            icon: () => h('svg'),
            title: () => 'The title',
            subtitle: () => 'The subtitle',
            default: () => [h('p', { id: 't-message' }, 'Why'), h('input', { id: 'first' })],
            actions: () => [
              h('button', { type: 'button', id: 'cancel' }, 'Cancel'),
              h('button', { type: 'submit', id: 'ok' }, 'OK'),
            ],
          },
        ),
      ]),
  });
  wrapper = mount(Host, { attachTo: document.body });
  return { w: wrapper, open, closes, submits };
}

const byId = (id: string) => document.getElementById(id) as HTMLElement;

describe('ModalDialog', () => {
  it('shows nothing while closed; open, a labelled modal dialog with the attributes it was given', async () => {
    const { w, open } = mountHost();
    expect(w.find('[role="dialog"]').exists()).toBe(false);
    open.value = true;
    await nextTick();
    const card = w.get('[data-testid="t-dialog"]');
    expect(card.attributes('role')).toBe('dialog');
    expect(card.attributes('aria-modal')).toBe('true');
    expect(card.attributes('aria-labelledby')).toBe('t-title');
    expect(card.attributes('aria-describedby')).toBe('t-message');
    expect(w.get('#t-title').text()).toBe('The title');
    expect(w.get('.sub').text()).toBe('The subtitle');
    expect(w.get('.head-icon').attributes('aria-hidden')).toBe('true');
    expect(w.get('.actions').findAll('button')).toHaveLength(2);
    // The backdrop carries no dialog attributes: those are the card's.
    expect(w.get('[data-testid="t-backdrop"]').attributes('aria-describedby')).toBeUndefined();
  });

  it('Escape closes; a press on the backdrop closes only with closeOnBackdrop, one inside never', async () => {
    const plain = mountHost();
    plain.open.value = true;
    await nextTick();
    await plain.w.get('[data-testid="t-backdrop"]').trigger('mousedown');
    expect(plain.closes.value).toBe(0);
    await plain.w.get('[data-testid="t-dialog"]').trigger('keydown', { key: 'Escape' });
    expect(plain.closes.value).toBe(1);
    wrapper?.unmount();

    const closing = mountHost({ closeOnBackdrop: true });
    closing.open.value = true;
    await nextTick();
    await closing.w.get('[data-testid="t-dialog"]').trigger('mousedown');
    expect(closing.closes.value).toBe(0);
    await closing.w.get('[data-testid="t-backdrop"]').trigger('mousedown');
    expect(closing.closes.value).toBe(1);
  });

  it('Tab and Shift+Tab go round the controls inside', async () => {
    const { w, open } = mountHost();
    open.value = true;
    await nextTick();
    const card = w.get('[data-testid="t-dialog"]');
    byId('ok').focus();
    await card.trigger('keydown', { key: 'Tab' });
    expect(document.activeElement).toBe(byId('first'));
    await card.trigger('keydown', { key: 'Tab', shiftKey: true });
    expect(document.activeElement).toBe(byId('ok'));
    byId('cancel').focus();
    await card.trigger('keydown', { key: 'Tab' }); // not the last: the browser moves on
    expect(document.activeElement).toBe(byId('cancel'));
  });

  it('gives the focus back to where it was once it closes, not when its page goes away', async () => {
    const { w, open } = mountHost();
    byId('opener').focus();
    open.value = true;
    await nextTick();
    byId('first').focus();
    open.value = false;
    await nextTick();
    expect(document.activeElement).toBe(byId('opener'));

    open.value = true;
    await nextTick();
    byId('first').focus();
    const outside = document.createElement('input');
    document.body.append(outside);
    outside.focus();
    w.unmount();
    wrapper = undefined;
    expect(document.activeElement).toBe(outside);
  });

  it('as a form, Enter (a submit) emits submit; otherwise there is no form', async () => {
    const asForm = mountHost({ form: true });
    asForm.open.value = true;
    await nextTick();
    const form = asForm.w.get('form');
    expect(form.attributes('novalidate')).toBeDefined();
    expect(form.find('#ok').exists()).toBe(true); // the buttons are the form's
    await form.trigger('submit');
    expect(asForm.submits.value).toBe(1);
    wrapper?.unmount();

    const plain = mountHost();
    plain.open.value = true;
    await nextTick();
    expect(plain.w.find('form').exists()).toBe(false);
  });
});
