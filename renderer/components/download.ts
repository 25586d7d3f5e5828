/**
 * Save text as a file from the page (web mode and the desktop window alike): a Blob, an object
 * URL and a click on an <a download>. No Node, no dialog of our own.
 */
export function downloadText(
  filename: string,
  contentType: string,
  text: string,
  doc: Document = document,
): void {
  const blob = new Blob([text], { type: contentType });
  const url = URL.createObjectURL(blob);
  const a = doc.createElement('a');
  a.href = url;
  a.download = filename;
  a.rel = 'noopener';
  a.style.display = 'none';
  doc.body.appendChild(a);
  try {
    a.click();
  } finally {
    a.remove();
    // After the click has been handled: the download has its own reference by then.
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }
}
