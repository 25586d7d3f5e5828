import { createApp } from 'vue';
import { z } from 'zod';
import App from './App.vue';
import './style.css';

// The CSP forbids eval: keep zod from probing for it (which would log a CSP violation).
z.config({ jitless: true });

createApp(App).mount('#app');
