/** The self-contained HTML report. */
export { renderReport } from './html.js';
