/**
 * The console's one script, served at /console/assets/console.js (CSP: 'self' only). Progressive
 * enhancement: a file chosen in an `<input type="file" data-fills="name">` is read into the textarea
 * of that name, so an export can be imported without pasting it. Without script, pasting works.
 */
export const SCRIPT = `document.addEventListener('change', (event) => {
  const input = event.target;
  if (!(input instanceof HTMLInputElement) || input.type !== 'file' || !input.dataset.fills) return;
  const target = input.form && input.form.elements.namedItem(input.dataset.fills);
  const file = input.files && input.files[0];
  if (!target || !file) return;
  file.text().then((text) => { target.value = text; });
});
`;
