// A stand-in for a third-party A/B testing library: buckets the visitor at once, consent or not.
document.cookie = 'ab_bucket=' + (Math.random() < 0.5 ? 'a' : 'b') + '; max-age=' + 30 * 86400 + '; path=/';
