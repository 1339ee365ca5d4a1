import { mount } from 'svelte';
import './ui/app.css';

const target = document.getElementById('app')!;
// ?lesson: the guided lesson (src/ui/lesson, docs/LESSON.md) instead of the explorer; each loads only its own views
if (new URLSearchParams(location.search).has('lesson')) void import('./ui/lesson/Lesson.svelte').then((m) => mount(m.default, { target }));
else void import('./ui/App.svelte').then((m) => mount(m.default, { target }));
