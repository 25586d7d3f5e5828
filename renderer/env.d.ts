/// <reference lib="dom" />

declare module '*.vue' {
  import type { DefineComponent } from 'vue';
  const component: DefineComponent<object, object, unknown>;
  export default component;
}

/** Set by the Electron preload (preload/index.ts); absent in web mode. */
interface Window {
  ec2connect?: import('../preload/api.js').Ec2ConnectBridge;
}

declare module '*.css';
