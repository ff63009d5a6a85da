// An attachment that calls `onNear` once, when its element comes within `margin` of the viewport:
// figures start their (costly) work only when a reader is about to see them.
import type { Attachment } from 'svelte/attachments';

export function nearViewport(onNear: () => void, margin = '600px'): Attachment<HTMLElement> {
  return (node) => {
    if (typeof IntersectionObserver === 'undefined') {
      onNear();
      return;
    }
    const observer = new IntersectionObserver(
      (entries) => {
        if (entries.some((e) => e.isIntersecting)) {
          observer.disconnect();
          onNear();
        }
      },
      { rootMargin: margin }
    );
    observer.observe(node);
    return () => observer.disconnect();
  };
}
