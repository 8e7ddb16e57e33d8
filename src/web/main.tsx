/** The web UI's entry: the inbox in #app (bundled by esbuild into dist/web/app.js). */
import { render } from 'preact';
import { App } from './app.js';
import './style.css';

render(<App />, document.getElementById('app')!);
