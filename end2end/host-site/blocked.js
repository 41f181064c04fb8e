window.__ran.push('external');
