// The whole site is static: every page is rendered to HTML at build time.
export const prerender = true;
