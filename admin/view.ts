import type { Me } from '../src/shared/api/me';
import type { Api } from './api';

/** What every view gets from the console. */
export interface ViewContext {
  api: Api;
  /** A short success message in the console's status line. */
  notice(text: string): void;
  /** An error that belongs to no form (a list that failed to load). */
  error(text: string): void;
  /** Loads the current view again now (after a write). */
  refresh(): Promise<void>;
  /** Who the console acts as (GET /v1/me), known before any view loads. */
  me: Me | null;
  /**
   * Whether the signed-in role may do what needs `role`: the console disables what it may not (the API refuses it
   * anyway), rather than offering a button that can only fail.
   */
  can(role: 'editor' | 'admin'): boolean;
}

/**
 * One view of the console: adding a view is one module exporting a View plus its line in views/index.ts.
 * `mount` builds what stays (forms, headings) once; `refresh` loads and redraws the data parts, on show, after a
 * write and every few seconds while the view is visible, so it must leave forms and focus alone.
 */
export interface View {
  id: string;
  title: string;
  mount(root: HTMLElement, ctx: ViewContext): void;
  refresh(ctx: ViewContext): Promise<void>;
}
