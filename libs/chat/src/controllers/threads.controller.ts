import { AcceptsApiKey, type AuthUser, CurrentUser } from '@app/auth';
import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, Res } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiTags,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { CreateThreadDto, ExportThreadQuery, ListThreadsQuery, UpdateThreadDto } from '../dto/thread.dto';
import { ThreadService } from '../thread.service';
import { threadToMarkdown } from '../export/thread-export';
import { ThreadView, toThreadView } from '../presenters';
import { ThreadExportView, ThreadPageView } from '../dto/responses.dto';

@ApiTags('threads')
@ApiBearerAuth()
@AcceptsApiKey()
@Controller('threads')
export class ThreadsController {
  constructor(private readonly threads: ThreadService) {}

  @Get()
  @ApiOperation({ summary: "The caller's threads, most recently active first; q searches titles and message text" })
  @ApiOkResponse({ type: ThreadPageView })
  list(@CurrentUser() auth: AuthUser, @Query() query: ListThreadsQuery) {
    return this.threads.list(auth, query);
  }

  @Post()
  @ApiOperation({ summary: 'Create a thread' })
  @ApiCreatedResponse({ type: ThreadView })
  create(@CurrentUser() auth: AuthUser, @Body() dto: CreateThreadDto) {
    return this.threads.create(auth, dto);
  }

  @Get(':id')
  @ApiOkResponse({ type: ThreadView })
  get(@CurrentUser() auth: AuthUser, @Param('id') id: string) {
    return this.threads.get(auth, id);
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Rename, change model or system prompt, or switch the branch shown (activeLeafId)' })
  @ApiOkResponse({ type: ThreadView })
  update(@CurrentUser() auth: AuthUser, @Param('id') id: string, @Body() dto: UpdateThreadDto) {
    return this.threads.update(auth, id, dto);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Deleted, with every message; a reply being generated is stopped' })
  async delete(@CurrentUser() auth: AuthUser, @Param('id') id: string): Promise<void> {
    await this.threads.delete(auth, id);
  }

  @Get(':id/export')
  @ApiOperation({ summary: 'The whole thread (every branch) as JSON, or the active branch as Markdown' })
  @ApiProduces('application/json', 'text/markdown')
  @ApiOkResponse({ type: ThreadExportView, description: 'JSON; with format=markdown a text/markdown transcript' })
  async export(
    @CurrentUser() auth: AuthUser,
    @Param('id') id: string,
    @Query() query: ExportThreadQuery,
    @Res({ passthrough: true }) res: Response,
  ) {
    const thread = await this.threads.find(auth, id);
    const messages = await this.threads.tree(auth, thread);
    const view = toThreadView(thread);
    const base = `confab-thread-${thread.id}`;
    if (query.format === 'markdown') {
      res.setHeader('Content-Type', 'text/markdown; charset=utf-8');
      res.setHeader('Content-Disposition', `attachment; filename="${base}.md"`);
      return threadToMarkdown(view, messages);
    }
    res.setHeader('Content-Disposition', `attachment; filename="${base}.json"`);
    return { thread: view, messages };
  }
}
