/// The dashboard's script, served at `/dashboard.js`.
///
/// It reads the API with `fetch`, so it can send `Authorization: Bearer` (an `EventSource`
/// cannot), and follows the `?watch=true` event streams to keep both views current. Every value
/// from a document reaches the page through `textContent`, attributes or the `srcdoc` of the
/// sandboxed preview frame, and never through `innerHTML`.
enum DashboardScript {
    static let source = #"""
        'use strict';

        (() => {
          const config = JSON.parse(document.getElementById('dashboard-config').textContent);
          const STATES = config.states;
          const collectionPath = '/v1/' + encodeURIComponent(config.collection);
          const TOKEN_KEY = 'trigger-email.apiToken';
          const PAGE_SIZE = 50;
          // The API returns at most 1,000 documents per page, so the live list grows to that many.
          const MAX_LIVE_LIMIT = 1000;
          // Counts come from /metrics, which has no event stream. They are read again after every
          // change event and at this interval, which catches changes outside the visible list.
          const COUNTS_INTERVAL_MS = 10000;
          // /metrics reuses its counts for up to a second, so the counts read right after a
          // change may miss it. refreshCountsAfterChange reads them again after this pause.
          const COUNTS_SETTLE_MS = 1500;
          const FIRST_RECONNECT_MS = 1000;
          const MAX_RECONNECT_MS = 30000;
          // The preview frame's own policy, added to the page's, so that nothing in the preview
          // loads over the network.
          const PREVIEW_POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:";

          const byId = (id) => document.getElementById(id);
          const dateFormat = new Intl.DateTimeFormat(document.documentElement.lang, { dateStyle: 'medium', timeStyle: 'medium' });

          function text(key, values = {}) {
            const template = config.text[key] ?? key;
            return template.replace(/\{(\w+)\}/g, (match, name) => (name in values ? String(values[name]) : match));
          }

          function setText(element, value) {
            if (element.textContent !== value) element.textContent = value;
          }

          // A disabled button loses keyboard focus, so unavailable buttons get aria-disabled and
          // ignore clicks instead.
          function setAvailable(button, available) {
            button.setAttribute('aria-disabled', available ? 'false' : 'true');
          }

          function isAvailable(button) {
            return button.getAttribute('aria-disabled') !== 'true';
          }

          function notify(message, isError = false) {
            const notice = byId('notice');
            notice.dataset.kind = isError ? 'error' : 'info';
            notice.textContent = message;
          }

          function setConnection(key, values) {
            const connection = byId('connection');
            connection.dataset.state = key;
            setText(connection, text(key, values));
          }

          // MARK: API token

          let token = readStoredToken();

          function readStoredToken() {
            try {
              return sessionStorage.getItem(TOKEN_KEY);
            } catch {
              return null;
            }
          }

          function storeToken(value) {
            token = value;
            try {
              if (value === null) sessionStorage.removeItem(TOKEN_KEY);
              else sessionStorage.setItem(TOKEN_KEY, value);
            } catch {
              // Storage is blocked in this browser, so the token lasts until the page is left.
            }
            byId('forget-token').hidden = value === null;
          }

          function askForToken() {
            const panel = byId('token-panel');
            setText(byId('token-message'), text(token === null ? 'tokenNeeded' : 'tokenRejected'));
            setConnection('waitingForToken');
            if (panel.hidden) {
              panel.hidden = false;
              byId('token-input').focus();
            }
          }

          byId('token-form').addEventListener('submit', (event) => {
            event.preventDefault();
            const input = byId('token-input');
            const value = input.value.trim();
            if (!value) return;
            storeToken(value);
            input.value = '';
            byId('token-panel').hidden = true;
            restart();
          });

          byId('forget-token').addEventListener('click', () => {
            storeToken(null);
            restart();
          });

          // MARK: Requests

          class TokenRequired extends Error {}

          class RequestFailed extends Error {
            constructor(status, message) {
              super(message);
              this.status = status;
            }
          }

          async function request(path, options = {}) {
            const headers = new Headers(options.headers);
            if (token !== null) headers.set('Authorization', 'Bearer ' + token);
            const response = await fetch(path, { ...options, headers, cache: 'no-store' });
            if (response.status === 401) {
              askForToken();
              throw new TokenRequired(text('waitingForToken'));
            }
            if (!response.ok) throw new RequestFailed(response.status, await errorMessage(response));
            return response;
          }

          async function errorMessage(response) {
            try {
              const body = await response.json();
              if (typeof body?.error?.message === 'string') return body.error.message;
            } catch {
              // The body is not the API's JSON error, so the status is reported instead.
            }
            return 'HTTP ' + response.status;
          }

          // Reads a text/event-stream response and calls onEvent(name, data) for each event.
          // Returns when the server ends the stream.
          async function readEvents(path, signal, onEvent) {
            const response = await request(path, { signal, headers: { Accept: 'text/event-stream' } });
            const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
            let buffer = '';
            try {
              for (;;) {
                const { value, done } = await reader.read();
                if (done) return;
                buffer += value;
                let end;
                while ((end = buffer.indexOf('\n\n')) >= 0) {
                  const block = buffer.slice(0, end);
                  buffer = buffer.slice(end + 2);
                  dispatchBlock(block, onEvent);
                }
              }
            } finally {
              reader.cancel().catch(() => {});
            }
          }

          function dispatchBlock(block, onEvent) {
            let name = 'message';
            const data = [];
            for (const rawLine of block.split('\n')) {
              const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
              if (line === '' || line.startsWith(':')) continue;
              const colon = line.indexOf(':');
              const field = colon < 0 ? line : line.slice(0, colon);
              let value = colon < 0 ? '' : line.slice(colon + 1);
              if (value.startsWith(' ')) value = value.slice(1);
              if (field === 'event') name = value;
              else if (field === 'data') data.push(value);
            }
            if (data.length > 0) onEvent(name, data.join('\n'));
          }

          function sleep(milliseconds, signal) {
            return new Promise((resolve) => {
              const timer = setTimeout(resolve, milliseconds);
              signal.addEventListener('abort', () => {
                clearTimeout(timer);
                resolve();
              }, { once: true });
            });
          }

          // Follows one ?watch=true stream and reconnects with exponential backoff when it ends.
          // A 401 waits for a token, and another 4xx stops the watch, because repeating the same
          // request cannot succeed.
          class Watch {
            constructor(path, onChange, onFailure) {
              this.path = path;
              this.onChange = onChange;
              this.onFailure = onFailure;
              this.controller = new AbortController();
              this.run();
            }

            stop() {
              this.controller.abort();
            }

            async run() {
              const signal = this.controller.signal;
              let delay = FIRST_RECONNECT_MS;
              setConnection('connecting');
              while (!signal.aborted) {
                try {
                  await readEvents(this.path, signal, (name, data) => {
                    if (signal.aborted) return;
                    if (name === 'change') {
                      delay = FIRST_RECONNECT_MS;
                      setConnection('live');
                      this.onChange(JSON.parse(data));
                    } else if (name === 'error') {
                      let message = data;
                      try {
                        message = JSON.parse(data).error.message;
                      } catch {
                        // The data is not JSON, so it is shown as sent.
                      }
                      setConnection('streamFailed', { message });
                    }
                  });
                } catch (error) {
                  if (signal.aborted || error instanceof TokenRequired) return;
                  if (error instanceof RequestFailed && error.status >= 400 && error.status < 500 && error.status !== 429) {
                    setConnection('stopped');
                    this.onFailure(error);
                    return;
                  }
                }
                if (signal.aborted) return;
                const wait = delay * (0.75 + Math.random() * 0.5);
                setConnection('reconnecting', { seconds: Math.round(wait / 1000) });
                await sleep(wait, signal);
                delay = Math.min(delay * 2, MAX_RECONNECT_MS);
              }
            }
          }

          // MARK: Counts

          const counts = { values: {}, running: false, again: false };

          async function refreshCounts() {
            if (counts.running) {
              counts.again = true;
              return;
            }
            counts.running = true;
            try {
              do {
                counts.again = false;
                const response = await request('/metrics');
                showCounts(parseCounts(await response.text()));
              } while (counts.again);
              setText(byId('counts-status'), '');
            } catch (error) {
              if (!(error instanceof TokenRequired)) setText(byId('counts-status'), text('countsFailed', { message: error.message }));
            } finally {
              counts.running = false;
            }
          }

          let settleTimer = null;

          function refreshCountsAfterChange() {
            refreshCounts();
            clearTimeout(settleTimer);
            settleTimer = setTimeout(refreshCounts, COUNTS_SETTLE_MS);
          }

          function parseCounts(metrics) {
            const values = {};
            for (const match of metrics.matchAll(/^trigger_email_documents\{state="([A-Z]+)"\} (\S+)$/gm)) {
              const value = Number(match[2]);
              values[match[1]] = Number.isFinite(value) ? value : null;
            }
            return values;
          }

          function showCounts(values) {
            counts.values = values;
            for (const state of STATES) {
              const value = values[state];
              setText(byId('count-' + state), Number.isFinite(value) ? String(value) : '–');
            }
            setAvailable(byId('retry-errors'), values.ERROR !== 0);
          }

          byId('retry-errors').addEventListener('click', async () => {
            const button = byId('retry-errors');
            if (!isAvailable(button)) return;
            const count = counts.values.ERROR;
            const question = Number.isFinite(count) ? text('confirmRetryErrors', { count }) : text('confirmRetryErrorsUncounted');
            if (!window.confirm(question)) return;
            try {
              const response = await request(collectionPath + ':retryErrors', { method: 'POST' });
              const result = await response.json();
              const unreadable = result.unreadable ? ' ' + text('unreadableLeft', { count: result.unreadable }) : '';
              notify(text('retriedErrors', { count: result.retried }) + unreadable);
              refreshCountsAfterChange();
            } catch (error) {
              if (!(error instanceof TokenRequired)) notify(text('retryFailed', { message: error.message }), true);
            }
          });

          async function retryDocument(id, state) {
            if (state === 'SUCCESS' && !window.confirm(text('confirmSendAgain'))) return;
            try {
              await request(collectionPath + '/' + encodeURIComponent(id) + ':retry', { method: 'POST' });
              notify(text('retryRequested', { id }));
              refreshCountsAfterChange();
            } catch (error) {
              if (!(error instanceof TokenRequired)) notify(text('retryFailed', { message: error.message }), true);
            }
          }

          // MARK: Document fields

          function field(value, path) {
            return path.split('.').reduce((object, key) => (object !== null && typeof object === 'object' ? object[key] : undefined), value);
          }

          function stateOf(data) {
            const state = field(data, 'delivery.state');
            return typeof state === 'string' ? state : '';
          }

          function recipientsOf(data) {
            const recipients = [];
            for (const key of ['to', 'cc', 'bcc']) {
              const value = data[key];
              if (typeof value === 'string') recipients.push(value);
              else if (Array.isArray(value)) recipients.push(...value.filter((item) => typeof item === 'string'));
            }
            return recipients.join(', ');
          }

          function subjectOf(data) {
            const subject = field(data, 'message.subject');
            if (typeof subject === 'string' && subject !== '') return subject;
            const template = field(data, 'template.name');
            if (typeof template === 'string') return text('templateSubject', { name: template });
            return text('noSubject');
          }

          function timeElement(value) {
            const time = document.createElement('time');
            time.dateTime = value;
            time.title = value;
            const date = new Date(value);
            time.textContent = Number.isNaN(date.getTime()) ? value : dateFormat.format(date);
            return time;
          }

          function stateBadge(state) {
            const badge = document.createElement('span');
            badge.className = 'badge state-' + state.toLowerCase();
            badge.textContent = state || '–';
            return badge;
          }

          function attachmentSummary(attachment) {
            if (attachment === null || typeof attachment !== 'object') return JSON.stringify(attachment);
            const name = attachment.filename ?? attachment.path ?? attachment.href ?? '';
            const details = [attachment.contentType, attachment.path, attachment.href]
              .filter((item) => typeof item === 'string' && item !== name);
            if (typeof attachment.content === 'string') details.push(attachment.content.length + ' B');
            return details.length > 0 ? name + ' (' + details.join(', ') + ')' : name;
          }

          function valueNode(value, path) {
            if (value === null || value === undefined) return document.createTextNode('–');
            if (path === 'delivery.state') return stateBadge(String(value));
            if (typeof value === 'string') {
              if (/(Time|expireAt)$/.test(path) && /^\d{4}-\d\d-\d\dT/.test(value)) return timeElement(value);
              if (path === 'message.text' || path === 'message.amp' || value.includes('\n')) {
                const pre = document.createElement('pre');
                pre.textContent = value;
                return pre;
              }
              return document.createTextNode(value);
            }
            if (path === 'message.attachments' && Array.isArray(value)) {
              const items = document.createElement('ul');
              for (const attachment of value) {
                const item = document.createElement('li');
                item.textContent = attachmentSummary(attachment);
                items.append(item);
              }
              return items;
            }
            if (Array.isArray(value) && value.every((item) => typeof item === 'string')) {
              return document.createTextNode(value.length > 0 ? value.join(', ') : '–');
            }
            if (typeof value === 'object') {
              const pre = document.createElement('pre');
              pre.textContent = JSON.stringify(value, null, 2);
              return pre;
            }
            return document.createTextNode(String(value));
          }

          function fillFields(list, source, paths) {
            const entries = [];
            for (const path of paths) {
              const value = field(source, path.replace(/^@/, ''));
              if (value === undefined) continue;
              const term = document.createElement('dt');
              const code = document.createElement('code');
              code.textContent = path.replace(/^@/, '');
              term.append(code);
              const definition = document.createElement('dd');
              definition.dataset.field = path.replace(/^@/, '');
              definition.append(valueNode(value, path.replace(/^@/, '')));
              entries.push(term, definition);
            }
            list.replaceChildren(...entries);
          }

          // MARK: List view

          const list = {
            filter: null,
            watch: null,
            liveLimit: PAGE_SIZE,
            snapshot: { documents: [] },
            // A page that "Load more" fetched, shown until the larger live list arrives.
            interim: [],
            // Pages past MAX_LIVE_LIMIT, which do not update.
            // NOTE: when documents are added meanwhile, the live list and these pages can leave a
            // gap between them, because these pages start where the live list ended when loaded.
            extra: [],
            nextPageToken: null,
            rows: new Map(),
            hasSnapshot: false,
          };

          // Only the table's fields, because a document's attachments can be megabytes and a watched
          // page is sent again on every change.
          const listFields = 'to,cc,bcc,message.subject,template.name,delivery.state,delivery.attempts';

          function listPath(filter, limit, pageToken, watch) {
            const parameters = new URLSearchParams({ order: 'desc', limit: String(limit), fields: listFields });
            if (filter.state) parameters.set('state', filter.state);
            if (filter.q) parameters.set('q', filter.q);
            if (pageToken) parameters.set('pageToken', pageToken);
            if (watch) parameters.set('watch', 'true');
            return collectionPath + '?' + parameters;
          }

          function showList(filter) {
            byId('state-filter').value = filter.state;
            byId('search').value = filter.q;
            const sameFilter = list.filter !== null && list.filter.state === filter.state && list.filter.q === filter.q;
            if (sameFilter && list.watch !== null) return;
            if (!sameFilter) {
              list.filter = filter;
              list.liveLimit = PAGE_SIZE;
              list.snapshot = { documents: [] };
              list.interim = [];
              list.extra = [];
              list.nextPageToken = null;
              list.hasSnapshot = false;
              for (const row of list.rows.values()) row.remove();
              list.rows.clear();
              setText(byId('list-status'), text('loading'));
              byId('load-more').hidden = true;
            }
            startListWatch();
          }

          function startListWatch() {
            stopListWatch();
            list.watch = new Watch(listPath(list.filter, list.liveLimit, null, true), (page) => {
              list.snapshot = page;
              list.interim = [];
              list.hasSnapshot = true;
              if (list.extra.length === 0) list.nextPageToken = page.nextPageToken ?? null;
              renderList();
              refreshCountsAfterChange();
            }, (error) => {
              setText(byId('list-status'), text('requestFailed', { message: error.message }));
            });
          }

          function stopListWatch() {
            if (list.watch !== null) list.watch.stop();
            list.watch = null;
          }

          function renderList() {
            const seen = new Set();
            const documents = [];
            for (const doc of [...list.snapshot.documents, ...list.interim, ...list.extra]) {
              if (seen.has(doc.id)) continue;
              seen.add(doc.id);
              documents.push(doc);
            }

            const body = byId('rows');
            let lostFocus = false;
            for (const [id, row] of list.rows) {
              if (seen.has(id)) continue;
              lostFocus ||= row.contains(document.activeElement);
              row.remove();
              list.rows.delete(id);
            }
            // Rows move only when their place changes, so a focused row keeps its focus.
            documents.forEach((doc, index) => {
              let row = list.rows.get(doc.id);
              if (row === undefined) {
                row = createRow(doc.id);
                list.rows.set(doc.id, row);
              }
              updateRow(row, doc);
              const current = body.children[index] ?? null;
              if (current !== row) body.insertBefore(row, current);
            });
            if (lostFocus) byId('main').focus();

            const filtered = list.filter.state !== '' || list.filter.q !== '';
            if (documents.length === 0) setText(byId('list-status'), text(filtered ? 'noMatches' : 'noDocuments'));
            else setText(byId('list-status'), text('shownCount', { count: documents.length }));
            byId('load-more').hidden = !list.nextPageToken;
          }

          function createRow(id) {
            const row = document.createElement('tr');
            row.dataset.id = id;
            const cells = ['created', 'state', 'recipients', 'subject', 'attempts', 'actions'].map((name) => {
              const cell = document.createElement('td');
              cell.className = 'cell-' + name;
              row.append(cell);
              return cell;
            });
            cells[4].classList.add('number');

            const link = document.createElement('a');
            link.href = '#/doc/' + encodeURIComponent(id);
            cells[3].append(link);

            const retry = document.createElement('button');
            retry.type = 'button';
            retry.className = 'small';
            retry.textContent = text('retry');
            retry.setAttribute('aria-label', text('retryDocumentLabel', { id }));
            retry.addEventListener('click', () => {
              if (isAvailable(retry)) retryDocument(id, row.dataset.state);
            });
            cells[5].append(retry);
            return row;
          }

          function updateRow(row, doc) {
            const data = doc.data ?? {};
            const state = stateOf(data);
            const cells = row.children;
            if (row.dataset.createTime !== doc.createTime) {
              row.dataset.createTime = doc.createTime;
              cells[0].replaceChildren(timeElement(doc.createTime));
            }
            if (row.dataset.state !== state || cells[1].childElementCount === 0) {
              row.dataset.state = state;
              cells[1].replaceChildren(stateBadge(state));
            }
            setText(cells[2], recipientsOf(data));
            setText(cells[3].firstElementChild, subjectOf(data));
            const attempts = field(data, 'delivery.attempts');
            setText(cells[4], typeof attempts === 'number' ? String(attempts) : '–');

            // The list offers a retry for ERROR only. A delivered document is sent again from its
            // own page, after a confirmation.
            const retry = cells[5].firstElementChild;
            const canRetry = state === 'ERROR';
            if (retry.hidden === canRetry) {
              if (!canRetry && retry === document.activeElement) cells[3].firstElementChild.focus();
              retry.hidden = !canRetry;
            }
          }

          byId('load-more').addEventListener('click', async () => {
            const button = byId('load-more');
            if (!isAvailable(button) || !list.nextPageToken) return;
            setAvailable(button, false);
            const filter = list.filter;
            try {
              const response = await request(listPath(filter, PAGE_SIZE, list.nextPageToken, false));
              const page = await response.json();
              if (list.filter !== filter) return;
              if (list.extra.length === 0 && list.liveLimit + PAGE_SIZE <= MAX_LIVE_LIMIT) {
                list.interim = page.documents;
                list.nextPageToken = page.nextPageToken ?? null;
                list.liveLimit += PAGE_SIZE;
                renderList();
                startListWatch();
              } else {
                list.extra.push(...page.documents);
                list.nextPageToken = page.nextPageToken ?? null;
                renderList();
              }
            } catch (error) {
              if (!(error instanceof TokenRequired)) notify(text('requestFailed', { message: error.message }), true);
            } finally {
              setAvailable(button, true);
            }
          });

          function navigateToList(state, q) {
            const parameters = new URLSearchParams();
            if (state) parameters.set('state', state);
            if (q) parameters.set('q', q);
            const query = parameters.toString();
            const hash = '#/' + (query ? '?' + query : '');
            if (location.hash === hash) route(false);
            else location.hash = hash;
          }

          byId('filters').addEventListener('submit', (event) => {
            event.preventDefault();
            navigateToList(byId('state-filter').value, byId('search').value.trim());
          });

          byId('state-filter').addEventListener('change', () => {
            navigateToList(byId('state-filter').value, byId('search').value.trim());
          });

          byId('clear-filters').addEventListener('click', () => {
            navigateToList('', '');
          });

          // MARK: Document view

          // `existed` is true once this view has shown the document, so that a deletion while
          // it is open reads as "deleted".
          const detail = { id: null, watch: null, state: '', previewSource: null, existed: false };

          const MESSAGE_FIELDS = [
            'to', 'cc', 'bcc', 'toUids', 'ccUids', 'bccUids', 'from', 'replyTo', 'headers',
            'message.subject', 'message.text', 'message.amp', 'message.attachments',
            'template.name', 'template.data', '@createTime', '@updateTime',
          ];
          const DELIVERY_FIELDS = [
            'state', 'attempts', 'startTime', 'endTime', 'leaseExpireTime', 'expireAt', 'error',
            'info.messageId', 'info.accepted', 'info.rejected', 'info.pending', 'info.response',
          ];

          function showDocument(id) {
            if (detail.id === id && detail.watch !== null) return;
            stopDocumentWatch();
            detail.id = id;
            detail.state = '';
            detail.previewSource = null;
            detail.existed = false;
            setText(byId('document-heading'), text('documentHeading', { id }));
            document.title = text('documentHeading', { id }) + ' — ' + text('pageTitle');
            setText(byId('document-status'), text('loading'));
            byId('document-body').hidden = true;
            detail.watch = new Watch(collectionPath + '/' + encodeURIComponent(id) + '?watch=true', (value) => {
              renderDocument(value);
              refreshCountsAfterChange();
            }, (error) => {
              // A document that does not exist gets 404 before its stream starts, so the watch
              // stops instead of trying again.
              if (error instanceof RequestFailed && error.status === 404) {
                stopDocumentWatch();
                setText(byId('document-status'), text('documentNotFound', { id }));
                return;
              }
              setText(byId('document-status'), text('requestFailed', { message: error.message }));
            });
          }

          function stopDocumentWatch() {
            if (detail.watch !== null) detail.watch.stop();
            detail.watch = null;
            detail.id = null;
          }

          function renderDocument(value) {
            if (value.deleted === true) {
              setText(byId('document-status'), text(detail.existed ? 'documentDeleted' : 'documentNotFound', { id: value.id }));
              byId('document-body').hidden = true;
              return;
            }
            const data = value.data ?? {};
            detail.existed = true;
            setText(byId('document-status'), '');
            byId('document-body').hidden = false;

            const metadata = { ...data, createTime: value.createTime, updateTime: value.updateTime };
            fillFields(byId('message-fields'), metadata, MESSAGE_FIELDS);
            const delivery = data.delivery;
            if (delivery !== null && typeof delivery === 'object') {
              fillFields(byId('delivery-fields'), { delivery }, DELIVERY_FIELDS.map((path) => 'delivery.' + path));
            } else {
              const note = document.createElement('dd');
              note.textContent = text('noDelivery');
              byId('delivery-fields').replaceChildren(note);
            }

            detail.state = stateOf(data);
            const retry = byId('retry-document');
            const canRetry = detail.state === 'ERROR' || detail.state === 'SUCCESS';
            setText(retry, text(detail.state === 'SUCCESS' ? 'sendAgain' : 'retry'));
            setAvailable(retry, canRetry);
            byId('retry-hint').hidden = canRetry;

            renderPreview(data);
            setText(byId('document-json'), JSON.stringify(value, null, 2));
          }

          function renderPreview(data) {
            const frame = byId('preview');
            const html = field(data, 'message.html');
            if (typeof html === 'string' && html !== '') {
              // The frame reloads only when the HTML changes, not on every delivery update.
              if (detail.previewSource !== html) {
                detail.previewSource = html;
                // The policy goes after a leading DOCTYPE, which must stay first to keep its
                // rendering mode.
                const doctype = /^\s*<!doctype[^>]*>/i.exec(html)?.[0] ?? '';
                const policy = '<meta http-equiv="Content-Security-Policy" content="' + PREVIEW_POLICY + '">';
                frame.srcdoc = doctype + policy + html.slice(doctype.length);
              }
              frame.hidden = false;
              setText(byId('preview-status'), '');
              return;
            }
            detail.previewSource = null;
            frame.hidden = true;
            frame.removeAttribute('srcdoc');
            const template = field(data, 'template.name');
            setText(byId('preview-status'), typeof template === 'string' ? text('templatePreview', { name: template }) : text('noHTML'));
          }

          byId('retry-document').addEventListener('click', () => {
            const button = byId('retry-document');
            if (isAvailable(button) && detail.id !== null) retryDocument(detail.id, detail.state);
          });

          // MARK: Routes

          // #/ and #/?state=ERROR&q=text show the list, #/doc/ID one document.
          let lastDocumentId = null;

          function route(moveFocus) {
            const hash = location.hash.slice(1) || '/';
            if (hash.startsWith('/doc/')) {
              let id = null;
              try {
                id = decodeURIComponent(hash.slice('/doc/'.length));
              } catch {
                // A malformed escape; reported below.
              }
              stopListWatch();
              byId('list-view').hidden = true;
              byId('document-view').hidden = false;
              if (id) {
                lastDocumentId = id;
                showDocument(id);
              } else {
                stopDocumentWatch();
                setText(byId('document-heading'), text('invalidLink'));
                setText(byId('document-status'), '');
                byId('document-body').hidden = true;
              }
              if (moveFocus) byId('document-heading').focus();
              return;
            }

            const query = new URLSearchParams(hash.includes('?') ? hash.slice(hash.indexOf('?') + 1) : '');
            const state = STATES.includes(query.get('state')) ? query.get('state') : '';
            stopDocumentWatch();
            byId('document-view').hidden = true;
            byId('list-view').hidden = false;
            document.title = text('pageTitle');
            showList({ state, q: (query.get('q') ?? '').trim() });
            if (moveFocus && lastDocumentId !== null) {
              const row = list.rows.get(lastDocumentId);
              if (row !== undefined) row.querySelector('a').focus();
              lastDocumentId = null;
            }
          }

          function restart() {
            stopListWatch();
            stopDocumentWatch();
            route(false);
            refreshCounts();
          }

          // The skip link moves focus without changing the hash, which contains the route.
          document.querySelector('.skip-link').addEventListener('click', (event) => {
            event.preventDefault();
            byId('main').focus();
          });

          window.addEventListener('hashchange', () => {
            notify('');
            route(true);
          });
          document.addEventListener('visibilitychange', () => {
            if (!document.hidden) refreshCounts();
          });
          setInterval(() => {
            if (!document.hidden) refreshCounts();
          }, COUNTS_INTERVAL_MS);

          byId('forget-token').hidden = token === null;
          restart();
        })();

        """#
}
