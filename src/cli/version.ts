/** The plugin version; the release script keeps it equal to package.json and plugin.yaml. */
export const VERSION = '0.1.0';
