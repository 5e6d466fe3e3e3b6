// SPDX-License-Identifier: MIT
// DOM building without innerHTML: user data only ever becomes text nodes.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === 'class') el.className = value;
    else if (name === 'text') el.textContent = value;
    else if (name === 'on') for (const [event, fn] of Object.entries(value)) el.addEventListener(event, fn);
    else if (name === 'dataset') Object.assign(el.dataset, value);
    else if (name in el && typeof value !== 'string') el[name] = value;
    else el.setAttribute(name, value === true ? '' : value);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

const SVG = 'http://www.w3.org/2000/svg';
const ICONS = {
  users: ['c9 8 3.5', 'M3 20c0-3.5 2.7-6 6-6s6 2.5 6 6', 'c17 9 2.5', 'M16 14.2c2.9.3 5 2.6 5 5.8'],
  user: ['c12 8 4', 'M4 21c0-4.4 3.6-7 8-7s8 2.6 8 7'],
  shield: ['M12 3l7 3v5c0 4.5-3 8.3-7 10-4-1.7-7-5.5-7-10V6z'],
  key: ['c8 15 4', 'M11 12l9-9M16 7l3 3M14 9l2 2'],
  menu: ['M4 6h16M4 12h16M4 18h16'],
  activity: ['M3 12h4l3-8 4 16 3-8h4'],
  logout: ['M15 4h4v16h-4M10 8l-4 4 4 4M6 12h10'],
  plus: ['M12 5v14M5 12h14'],
  search: ['c11 11 6', 'M20 20l-4.5-4.5'],
  edit: ['M4 20h4L19 9l-4-4L4 16z'],
  trash: ['M4 7h16M9 7V4h6v3M6 7l1 13h10l1-13'],
  power: ['M12 3v9M6.3 6.3a8 8 0 1 0 11.4 0'],
  reset: ['M4 4v6h6', 'M4.9 15a8 8 0 1 0 1.5-8.5L4 10'],
  copy: [
    'M10 8h9a1 1 0 0 1 1 1v10a1 1 0 0 1-1 1h-9a1 1 0 0 1-1-1V9a1 1 0 0 1 1-1z',
    'M15 8V5a1 1 0 0 0-1-1H5a1 1 0 0 0-1 1v9a1 1 0 0 0 1 1h4',
  ],
  check: ['M5 12l5 5 9-10'],
  x: ['M6 6l12 12M18 6L6 18'],
  left: ['M15 6l-6 6 6 6'],
  right: ['M9 6l6 6-6 6'],
  down: ['M6 9l6 6 6-6'],
  link: ['M10 14a4 4 0 0 0 5.7 0l3-3a4 4 0 0 0-5.7-5.7l-1 1', 'M14 10a4 4 0 0 0-5.7 0l-3 3a4 4 0 0 0 5.7 5.7l1-1'],
  inbox: ['M3 13l3-8h12l3 8v6H3z', 'M3 13h5l1 3h6l1-3h5'],
  lock: ['M6 11h12v10H6z', 'M8 11V7a4 4 0 0 1 8 0v4'],
  dot: ['c12 12 4'],
};

export function icon(name, className = 'icon') {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('class', className);
  svg.setAttribute('aria-hidden', 'true');
  for (const shape of ICONS[name] || ICONS.dot) {
    let node;
    if (shape.startsWith('c')) {
      const [cx, cy, r] = shape.slice(1).split(' ');
      node = document.createElementNS(SVG, 'circle');
      node.setAttribute('cx', cx);
      node.setAttribute('cy', cy);
      node.setAttribute('r', r);
    } else {
      node = document.createElementNS(SVG, 'path');
      node.setAttribute('d', shape);
    }
    svg.append(node);
  }
  return svg;
}

export function hasIcon(name) {
  return Object.hasOwn(ICONS, name);
}

const dateFormat = new Intl.DateTimeFormat('es', { dateStyle: 'medium', timeStyle: 'short' });
const timeFormat = new Intl.DateTimeFormat('es', { hour: '2-digit', minute: '2-digit', second: '2-digit' });

export function formatDate(text) {
  if (!text) return '';
  const date = new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(text) ? text : `${text.replace(' ', 'T')}Z`);
  return Number.isNaN(date.getTime()) ? text : dateFormat.format(date);
}

export function formatTime(text) {
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? '' : timeFormat.format(date);
}

/** Briefly highlight the rows (or items) whose data-key is in keys. */
export function flash(container, keys) {
  for (const key of keys) {
    const el = container.querySelector(`[data-key="${CSS.escape(String(key))}"]`);
    if (!el) continue;
    el.classList.remove('flash');
    void el.offsetWidth; // restart the animation when the same row changes twice
    el.classList.add('flash');
    el.addEventListener('animationend', () => el.classList.remove('flash'), { once: true });
  }
}

export function debounce(fn, ms) {
  let timer;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

/** Wrap an async loader so overlapping calls coalesce: one run at a time, plus one more if asked meanwhile. */
export function serialized(load) {
  let running = null;
  let again = false;
  let lastArgs = [];
  return (...args) => {
    lastArgs = args;
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        do {
          again = false;
          await load(...lastArgs);
        } while (again);
      } finally {
        running = null;
      }
    })();
    return running;
  };
}

export function spinnerBlock(text) {
  return h('div', { class: 'loading' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), h('span', { text }));
}

export const MENU_ICONS = ['users', 'user', 'shield', 'key', 'menu', 'activity', 'link', 'inbox', 'lock', 'dot'];

/** Keep a popover region (progress, toasts) in the top layer above any open modal dialog. */
export function raise(region) {
  if (typeof region.showPopover !== 'function') return;
  if (region.matches(':popover-open')) region.hidePopover();
  region.showPopover();
}
