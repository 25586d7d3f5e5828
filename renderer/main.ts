// First: before any zod schema is built.
import './zod-config.js';
import { createApp } from 'vue';
import { createPinia } from 'pinia';
import App from './App.vue';
import './style.css';

// The OS theme until the settings answer (the settings store takes over from there).
document.documentElement.dataset.theme = window.matchMedia?.('(prefers-color-scheme: dark)').matches
  ? 'dark'
  : 'light';

createApp(App).use(createPinia()).mount('#app');
